"""/api/ops/notifications/preferences: what each operator is mailed (mail_planner.py)."""

from __future__ import annotations

import sqlite3

import orjson
from aiohttp import web

from autogrocery.api.bodies import json_response
from autogrocery.api.mail_planner import PLANNER
from autogrocery.api.mail_tables import SELECT_PREFERENCES, put_preferences
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.api.state import CALLER, state
from autogrocery.api.webhooks import NOTIFIER
from autogrocery.contract.notifications import Preferences, PreferencesView, QuietHours
from autogrocery.domain.models import now

routes = web.RouteTableDef()
OPERATOR = ("operator",)
PATH = "/api/ops/notifications/preferences"


@routes.get(PATH)
@documented(
    Operation(
        "getNotificationPreferences",
        "What you are mailed",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Yours; before any PUT, no email and nothing.", PreferencesView),),
    )
)
async def get_preferences(request: web.Request) -> web.Response:
    return json_response(await _view(request))


@routes.put(PATH)
@documented(
    Operation(
        "putNotificationPreferences",
        "Choose what you are mailed, and how",
        "ops",
        roles=OPERATOR,
        body=Preferences,
        replies=(Reply(200, "As they are now.", PreferencesView),),
        problems=(503,),
        description="The whole of them (what is left out takes its default). You are told "
        "of what happens from the first PUT on. Nothing is mailed while the store has no "
        "notify.smtp_host (`mail_configured` says so).",
    )
)
async def put(request: web.Request, body: Preferences) -> web.Response:
    user_id = request[CALLER].user_id
    quiet = (body.quiet_hours.start, body.quiet_hours.end) if body.quiet_hours else None
    done_on = request.app[PLANNER].due_day().isoformat()
    await state(request).tables.transact(
        lambda conn: put_preferences(
            conn,
            user_id,
            body.email,
            body.events,
            body.mode,
            quiet,
            body.daily_report,
            now(),
            done_on,
        )
    )
    return json_response(await _view(request))


async def _view(request: web.Request) -> PreferencesView:
    conn = state(request).tables.conn
    rows = await conn.execute_fetchall(SELECT_PREFERENCES, (request[CALLER].user_id,))
    row: sqlite3.Row | None = next(iter(rows), None)
    configured = request.app[NOTIFIER].mail_configured
    if row is None:
        return PreferencesView(None, [], "immediate", None, False, configured)
    quiet = QuietHours(row["quiet_start"], row["quiet_end"]) if row["quiet_start"] else None
    return PreferencesView(
        row["email"],
        orjson.loads(row["events"]),
        row["mode"],
        quiet,
        bool(row["daily_report"]),
        configured,
    )

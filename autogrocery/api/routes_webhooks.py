"""/api/ops/webhooks: other systems told of alerts (api/webhooks.py sends them)."""

from __future__ import annotations

import secrets
import sqlite3

import msgspec
import orjson
from aiohttp import web

from autogrocery.api.auth_store import Sql
from autogrocery.api.bodies import json_response, query_int
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.api.state import CALLER, state
from autogrocery.api.url_guard import UrlRefused, check_url
from autogrocery.api.webhook_tables import (
    SELECT_DELIVERIES,
    SELECT_WEBHOOK,
    SELECT_WEBHOOKS,
    delete_webhook,
    encode_events,
    insert_webhook,
    ping,
    redeliver,
    update_webhook,
)
from autogrocery.api.webhooks import NOTIFIER
from autogrocery.contract.webhooks import (
    ChangeWebhookRequest,
    CreateWebhookRequest,
    Delivery,
    DeliveryList,
    NewWebhook,
    Queued,
    Try,
    Webhook,
    WebhookList,
)
from autogrocery.domain.errors import Conflict, NotFound, ValidationError
from autogrocery.domain.models import new_id, now, rfc3339

routes = web.RouteTableDef()
OPERATOR = ("operator",)
GIVEN_UP = "given up: the receiver failed for too long"
ONE = "/api/ops/webhooks/{webhook_id}"
LIMIT = Param(
    "limit", "How many, the most recent first (1-500).", {"type": "integer", "default": 50}
)
SIGNED = (
    "Each delivery is a JSON POST of the event as the event socket carries it, with "
    "X-Autogrocery-Event, X-Autogrocery-Delivery (the same on every retry), "
    "X-Autogrocery-Timestamp (Unix seconds) and X-Autogrocery-Signature: "
    "sha256=hex(HMAC-SHA256(secret, timestamp + '.' + body)). Any 2xx within "
    "notify.webhook_timeout is delivered; else it is tried again, the wait doubling "
    "(with jitter) for notify.webhook_retry_for (a day), then marked failed. One webhook's "
    "deliveries go in order."
)


@routes.post("/api/ops/webhooks")
@documented(
    Operation(
        "createWebhook",
        "Send alerts to a URL",
        "ops",
        roles=OPERATOR,
        body=CreateWebhookRequest,
        replies=(Reply(201, "Made; `secret` is shown this once.", NewWebhook),),
        problems=(503,),
        description=f"Told of what is raised from now on. {SIGNED} A URL that resolves into "
        "a private network is 400 unless notify.allow_private_urls.",
    )
)
async def create_webhook(request: web.Request, body: CreateWebhookRequest) -> web.Response:
    await _check(request, body.url)
    webhook_id, secret = new_id("whk"), f"whsec_{secrets.token_urlsafe(32)}"
    user = request[CALLER].username

    def insert(conn: Sql) -> None:
        insert_webhook(
            conn, webhook_id, body.url, body.events, body.description, secret, user, now()
        )

    await state(request).tables.transact(insert)
    request.app[NOTIFIER].changed()
    made = await _webhook(request, webhook_id)
    return json_response(NewWebhook(**msgspec.structs.asdict(made), secret=secret), status=201)


@routes.get("/api/ops/webhooks")
@documented(
    Operation(
        "listWebhooks",
        "The webhooks",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Every webhook, the oldest first.", WebhookList),),
    )
)
async def list_webhooks(request: web.Request) -> web.Response:
    conn = state(request).tables.conn
    rows = await conn.execute_fetchall(f"{SELECT_WEBHOOKS} ORDER BY w.created_at")
    return json_response(WebhookList([_view(row) for row in rows]))


@routes.get(ONE)
@documented(
    Operation(
        "getWebhook",
        "A webhook",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "The webhook (not its secret).", Webhook),),
        problems=(404,),
    )
)
async def get_webhook(request: web.Request) -> web.Response:
    return json_response(await _webhook(request, request.match_info["webhook_id"]))


@routes.patch(ONE)
@documented(
    Operation(
        "changeWebhook",
        "Pause, resume or change a webhook",
        "ops",
        roles=OPERATOR,
        body=ChangeWebhookRequest,
        replies=(Reply(200, "The webhook as it is now.", Webhook),),
        problems=(404, 503),
        description="Send at least one field. Paused, nothing is sent and new deliveries "
        "queue; resumed, they go in order (each still given up on a day after its first "
        "attempt).",
    )
)
async def change_webhook(request: web.Request, body: ChangeWebhookRequest) -> web.Response:
    webhook_id = request.match_info["webhook_id"]
    changes: dict[str, str | int] = {}
    if body.url is not msgspec.UNSET:
        await _check(request, body.url)
        changes["url"] = body.url
    if body.events is not msgspec.UNSET:
        changes["events"] = encode_events(body.events)
    if body.description is not msgspec.UNSET:
        changes["description"] = body.description
    if body.paused is not msgspec.UNSET:
        changes["paused"] = int(body.paused)
    if not changes:
        raise ValidationError("send at least one of url, events, description, paused")
    found = await state(request).tables.transact(
        lambda conn: update_webhook(conn, webhook_id, changes)
    )
    if not found:
        raise NotFound(f"no webhook {webhook_id}")
    request.app[NOTIFIER].changed()
    return json_response(await _webhook(request, webhook_id))


@routes.delete(ONE)
@documented(
    Operation(
        "deleteWebhook",
        "Delete a webhook",
        "ops",
        roles=OPERATOR,
        replies=(Reply(204, "Deleted, with its deliveries; an attempt in flight is its last."),),
        problems=(404, 503),
    )
)
async def delete(request: web.Request) -> web.Response:
    webhook_id = request.match_info["webhook_id"]
    gone = await state(request).tables.transact(lambda conn: delete_webhook(conn, webhook_id))
    if not gone:
        raise NotFound(f"no webhook {webhook_id}")
    request.app[NOTIFIER].changed()
    return web.Response(status=204)


@routes.get(f"{ONE}/deliveries")
@documented(
    Operation(
        "listWebhookDeliveries",
        "A webhook's recent deliveries",
        "ops",
        roles=OPERATOR,
        params=(LIMIT,),
        replies=(
            Reply(200, "The most recent first, pending ones with their next try.", DeliveryList),
        ),
        problems=(404,),
        description="Delivered and failed ones are kept a week.",
    )
)
async def deliveries(request: web.Request) -> web.Response:
    webhook_id = request.match_info["webhook_id"]
    limit = query_int(request, "limit", 50)
    if not 1 <= limit <= 500:
        raise ValidationError("limit must be 1-500", [{"field": "limit", "message": "1-500"}])
    await _webhook(request, webhook_id)  # 404 when there is none
    conn = state(request).tables.conn
    rows = await conn.execute_fetchall(SELECT_DELIVERIES, (webhook_id, limit))
    return json_response(DeliveryList([_delivery(row) for row in rows]))


@routes.post(f"{ONE}/ping")
@documented(
    Operation(
        "pingWebhook",
        "Send a webhook a test event",
        "ops",
        roles=OPERATOR,
        replies=(Reply(202, "Queued: it goes at once, signed and retried as any.", Queued),),
        problems=(404, 503),
        description="A `webhook.ping` event, `{type, at, data: {webhook_id, message}}`, to "
        "this webhook only (even when paused: it waits). For a receiver's first test.",
    )
)
async def ping_webhook(request: web.Request) -> web.Response:
    webhook_id = request.match_info["webhook_id"]
    facts = orjson.dumps(
        {"webhook_id": webhook_id, "message": "a test event from the store's operators"}
    ).decode()
    delivery_id = await state(request).tables.transact(
        lambda conn: ping(conn, webhook_id, facts, now())
    )
    if delivery_id is None:
        raise NotFound(f"no webhook {webhook_id}")
    request.app[NOTIFIER].poke(webhook_id)
    return json_response(Queued(delivery_id), status=202)


@routes.post(f"{ONE}/deliveries/{{delivery_id}}/redeliver")
@documented(
    Operation(
        "redeliverWebhookDelivery",
        "Send a delivery again",
        "ops",
        roles=OPERATOR,
        replies=(Reply(202, "Queued again, with a new retry window.", Queued),),
        problems=(404, 409, 503),
        description="A delivered or failed delivery goes again, with its id (a receiver "
        "that keeps ids sees a repeat). 409 while it is pending, or when its event is "
        "over a week old and forgotten.",
    )
)
async def redeliver_delivery(request: web.Request) -> web.Response:
    webhook_id, delivery_id = request.match_info["webhook_id"], request.match_info["delivery_id"]
    done = await state(request).tables.transact(
        lambda conn: redeliver(conn, webhook_id, delivery_id, now())
    )
    if done == "unknown":
        raise NotFound(f"webhook {webhook_id} has no delivery {delivery_id}")
    if done == "pending":
        raise Conflict(f"delivery {delivery_id} is still being sent")
    if done == "gone":
        raise Conflict(f"delivery {delivery_id}'s event is over a week old and forgotten")
    request.app[NOTIFIER].poke(webhook_id)
    return json_response(Queued(delivery_id), status=202)


async def _check(request: web.Request, url: str) -> None:
    allow_private = request.app[NOTIFIER].allow_private_urls
    try:
        await check_url(url, allow_private)
    except UrlRefused as refused:
        raise ValidationError(str(refused), [{"field": "url", "message": str(refused)}]) from None


async def _webhook(request: web.Request, webhook_id: str) -> Webhook:
    rows = await state(request).tables.conn.execute_fetchall(SELECT_WEBHOOK, (webhook_id,))
    row = next(iter(rows), None)
    if row is None:
        raise NotFound(f"no webhook {webhook_id}")
    return _view(row)


def _view(row: sqlite3.Row) -> Webhook:
    return Webhook(
        webhook_id=row["webhook_id"],
        url=row["url"],
        events=orjson.loads(row["events"]),
        description=row["description"],
        paused=bool(row["paused"]),
        created_by=row["created_by"],
        created_at=rfc3339(row["created_at"]) or "",
        pending=row["pending"],
        failed=row["failed"],
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    pending = row["status"] == "pending"
    tries = [
        Try(rfc3339(t["at"]) or "", t["status_code"], t["ms"], t["error"])
        for t in orjson.loads(row["tries"])
    ]
    last = tries[-1] if tries else None
    # Given up on untried: queued behind one that failed for the whole retry window.
    untried = GIVEN_UP if row["status"] == "failed" else None
    return Delivery(
        delivery_id=row["delivery_id"],
        event=row["type"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=rfc3339(row["created_at"]) or "",
        last_status=last.status_code if last else None,
        last_ms=last.ms if last else None,
        last_error=last.error if last else untried,
        next_attempt_at=rfc3339(row["next_at"]) if pending else None,
        finished_at=rfc3339(row["finished_at"]),
        tries=tries,
    )

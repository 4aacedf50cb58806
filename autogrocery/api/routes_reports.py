"""/api/ops: fresh food's lots about to expire, and the reports on usage, waste and
what to reorder (operators only)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TypeVar

from aiohttp import web

from autogrocery.api import report_paging, views
from autogrocery.api.bodies import json_response, query_int
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.api.state import state
from autogrocery.contract.ops import (
    ExpiringLots,
    ReorderReport,
    UsageReport,
    WasteReport,
)
from autogrocery.domain.errors import ValidationError
from autogrocery.service import answers

routes = web.RouteTableDef()
OPERATOR = ("operator",)


@routes.get("/api/ops/expiring")
@documented(
    Operation(
        "listExpiring",
        "Lots that expire soon (or did)",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Lots with stock, the earliest best-before first.", ExpiringLots),),
        params=(
            Param(
                "within",
                "How far ahead: days, as `3d` or `3` (default 3d).",
                {"type": "string", "pattern": "^[0-9]{1,4}d?$", "default": "3d"},
            ),
            report_paging.LIMIT,
            report_paging.CURSOR,
        ),
    )
)
async def expiring(request: web.Request) -> web.Response:
    raw = request.query.get("within", "3d")
    if not _DAYS.fullmatch(raw):
        raise ValidationError(
            "within must be a number of days, like 3d",
            [{"field": "within", "message": "not like 3d"}],
        )
    limit = report_paging.limit_of(request)
    key = report_paging.cursor_of(request, 3)
    after = (key[0], key[1], key[2]) if key else None
    system = state(request).system
    found = await system.reports.expiring(int(raw.rstrip("d")), limit, after)
    today = system.today()
    lots = [views.expiring_lot(lot, level, today) for lot, level in found]
    last = lots[-1] if limit is not None and len(lots) == limit else None
    following = None
    if last is not None:
        following = report_paging.cursor(last.expiry_date or "", last.sku, last.lot_id)
    return json_response({"lots": lots, "next_cursor": following})


@routes.get("/api/ops/reports/usage")
@documented(
    Operation(
        "usageReport",
        "Units taken per SKU per day",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "OUT movements by SKU and day (the store's days).", UsageReport),),
        params=(
            Param(
                "days",
                "How many days back, today included.",
                {"type": "integer", "minimum": 1, "maximum": 366, "default": 7},
            ),
            Param(
                "by",
                "`day`: each SKU's usage per day; `month`: per month (12 entries for a "
                "year, not 366).",
                {"type": "string", "enum": ["day", "month"], "default": "day"},
            ),
            report_paging.LIMIT,
            report_paging.CURSOR,
        ),
        description="SKUs in SKU order; a page of them with `limit` (each SKU's movements "
        "are read by index: a page costs the same for a week or a year).",
    )
)
async def usage(request: web.Request) -> web.Response:
    days = query_int(request, "days", 7)
    by = request.query.get("by") or "day"
    if by not in ("day", "month"):
        raise ValidationError("by must be day or month", [{"field": "by", "message": "unknown"}])
    page = report_paging.sku_page(request)
    report = await state(request).system.reports.usage(days, page, by)
    return json_response(_paged(report))


Paged = TypeVar("Paged", answers.UsageReport, answers.WasteReport)


def _paged(report: Paged) -> Paged:
    """The report with its last SKU shown (when there are more) as a cursor."""
    following = report["next_cursor"]
    report["next_cursor"] = report_paging.cursor(following) if following else None
    return report


DAY_PARAM = {"type": "string", "format": "date", "examples": ["2026-11-01"]}


@routes.get("/api/ops/reports/waste")
@documented(
    Operation(
        "wasteReport",
        "What was written off, and its value at cost",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "WASTE movements by SKU over the period.", WasteReport),),
        params=(
            Param("from", "The first day (default: 7 days ago).", DAY_PARAM),
            Param("to", "The last day, included (default: today).", DAY_PARAM),
            report_paging.LIMIT,
            report_paging.CURSOR,
        ),
        description="SKUs in SKU order; a page of them with `limit` (without the "
        "period's `total_value`, which is every SKU's: add up the pages').",
    )
)
async def waste(request: web.Request) -> web.Response:
    system = state(request).system
    today = system.today()
    last = _day(request, "to") or today
    first = _day(request, "from") or last - timedelta(days=6)
    page = report_paging.sku_page(request)
    return json_response(_paged(await system.reports.waste(first, last, page)))


@routes.get("/api/ops/reports/reorder")
@documented(
    Operation(
        "reorderReport",
        "What to order now",
        "ops",
        roles=OPERATOR,
        replies=(
            Reply(
                200,
                "SKUs that will not last the delivery lead time at their recent usage, or "
                "are below their min level, with the quantity to order.",
                ReorderReport,
            ),
        ),
    )
)
async def reorder(request: web.Request) -> web.Response:
    return json_response(await state(request).system.reports.reorder())


_DAYS = re.compile(r"[0-9]{1,4}d?")


def _day(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            f"{name} must be a date like 2026-11-30",
            [{"field": name, "message": "not a date"}],
        ) from None

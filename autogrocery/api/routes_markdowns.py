"""/api/ops: the lots that will expire before they sell, and their markdowns (operators
only)."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api import report_paging, views
from autogrocery.api.bodies import json_response, query_int
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.api.state import CALLER, state
from autogrocery.contract.markdowns import AtRiskReport, MarkdownList, MarkdownRequest, MarkedLot
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.money import parse_money
from autogrocery.service.markdowns import AT_RISK_DAYS

routes = web.RouteTableDef()
OPERATOR = ("operator",)
LEAST, USUAL, MOST = AT_RISK_DAYS

RULE = (
    "Each product sells at its units a day over the last `days` days (today included), "
    "its lots first-expired-first-out, each until its best-before day ends (the store's "
    "time zone); a lot is listed when units are expected left then. `suggested_price`: "
    "the price at which it would sell out in time if demand grows as (p / price) ** "
    "-stock.markdown_elasticity, rounded down to a cent; never below unit_cost unless "
    "even at cost units would be left to write off, and then not below "
    "stock.markdown_floor x unit_cost (nor 1 cent). With no sales to go by, that floor."
)


@routes.get("/api/ops/reports/at-risk")
@documented(
    Operation(
        "atRiskReport",
        "Lots that will expire before they sell",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "At-risk lots, the earliest best-before first.", AtRiskReport),),
        params=(
            Param(
                "days",
                "The days of sales each product's rate is taken over, today included.",
                {"type": "integer", "minimum": LEAST, "maximum": MOST, "default": USUAL},
            ),
            report_paging.LIMIT,
            report_paging.CURSOR,
        ),
        description=RULE,
    )
)
async def at_risk(request: web.Request) -> web.Response:
    days = query_int(request, "days", USUAL)
    limit = report_paging.limit_of(request)
    key = report_paging.cursor_of(request, 3)
    after = (key[0], key[1], key[2]) if key else None
    desk = state(request).system.markdowns
    span, found = await desk.at_risk(days, limit, after)
    lots = [views.at_risk_lot(lot) for lot in found]
    following = None
    if limit is not None and len(found) == limit:
        last = found[-1].lot
        expiry = last.expiry.isoformat() if last.expiry else ""
        following = report_paging.cursor(expiry, last.sku, last.lot_id)
    return json_response(
        {
            "days": days,
            "span_days": span,
            "elasticity": desk.settings.markdown_elasticity,
            "lots": lots,
            "next_cursor": following,
        }
    )


@routes.post("/api/ops/lots/{lot_id}/markdown")
@documented(
    Operation(
        "markDownLot",
        "Sell a lot at a markdown",
        "ops",
        roles=OPERATOR,
        body=MarkdownRequest,
        replies=(Reply(200, "The lot with its markdown.", MarkedLot),),
        problems=(404, 409, 503),
        description="Orders that take units from the lot (first-expired-first-out) bill "
        "them at `price`, on a line of their own (`expiry_date`: the lot's), until "
        "`until`; a new markdown replaces the lot's. Lot ids hold '/': percent-encode "
        "them (%2F). 409 for an undated, expired or empty lot, or when a lot of the same "
        "SKU and date is marked down to another price; 400 for a price not below the "
        "product's or an `until` in the past.",
    )
)
async def mark_down(request: web.Request, body: MarkdownRequest) -> web.Response:
    price = None if body.price is None else _price(body.price)
    lot = await state(request).system.markdowns.mark_down(
        request.match_info["lot_id"], price, body.until, request[CALLER].username
    )
    return json_response(views.marked_lot(lot))


@routes.delete("/api/ops/lots/{lot_id}/markdown")
@documented(
    Operation(
        "endMarkdown",
        "End a lot's markdown",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "The lot, sold at its product's price again.", MarkedLot),),
        problems=(404, 503),
        description="Orders previewed before keep the price they locked. Ending a lot "
        "without a markdown changes nothing.",
    )
)
async def end_markdown(request: web.Request) -> web.Response:
    system = state(request).system
    lot = await system.markdowns.mark_down(
        request.match_info["lot_id"], None, None, request[CALLER].username
    )
    return json_response(views.marked_lot(lot))


@routes.get("/api/ops/markdowns")
@documented(
    Operation(
        "listMarkdowns",
        "Lots' markdowns and what sold at them",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Markdowns, the newest first.", MarkdownList),),
        params=(
            Param(
                "ended",
                "`true`: also those that are over (ended, or past `until`).",
                {"type": "boolean", "default": False},
            ),
            Param(
                "limit",
                "Page size.",
                {"type": "integer", "minimum": 1, "maximum": report_paging.MOST, "default": 100},
            ),
            report_paging.CURSOR,
        ),
    )
)
async def markdowns(request: web.Request) -> web.Response:
    ended = request.query.get("ended", "false")
    if ended not in ("true", "false"):
        raise ValidationError(
            "ended must be true or false", [{"field": "ended", "message": "not a boolean"}]
        )
    limit = report_paging.limit_of(request) or 100
    key = report_paging.cursor_of(request, 2)
    after = (_since(key[0]), key[1]) if key else None
    desk = state(request).system.markdowns
    found = await desk.listed(limit, after, ended_too=ended == "true")
    at = desk.ctx.clock()
    listed = [views.markdown_entry(row, at) for row in found]
    following = None
    if len(found) == limit:
        following = report_paging.cursor(repr(found[-1][3]), found[-1][0])
    return json_response({"markdowns": listed, "next_cursor": following})


def _since(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise report_paging.bad_cursor() from None


def _price(value: str) -> int:
    cents = parse_money(value)
    if cents <= 0:
        raise ValidationError("price must be above 0", [{"field": "price", "message": "zero"}])
    return cents

"""Catalog, customer orders (devices) and truck restocks."""

from __future__ import annotations

from datetime import date

import msgspec
from aiohttp import web

from autogrocery.api import paging, views
from autogrocery.api.bodies import json_response, query_cursor, query_int
from autogrocery.api.idempotency import idempotent
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.api.state import BODY, CALLER, owner_filter, state
from autogrocery.contract.base import OrderStatus
from autogrocery.contract.orders import (
    Order,
    OrderHistory,
    OrderHistoryEntry,
    OrderList,
    OrderState,
    PreviewRequest,
    Restock,
    RestockLineRequest,
    RestockList,
    RestockReceipt,
    RestockRequest,
)
from autogrocery.contract.stock import Catalog
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.models import LineRequest, OrderKind, rfc3339
from autogrocery.domain.money import parse_money
from autogrocery.domain.records import Made, RequestKey
from autogrocery.domain.validation import check_count

routes = web.RouteTableDef()

PAGE = (
    Param("status", "Only orders in this status.", msgspec.json.schema(OrderStatus)),
    Param("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
    Param(
        "cursor",
        "The `next_cursor` of the previous page.",
        {"type": "string", "pattern": "^[0-9]{1,18}$"},
    ),
)


@routes.get("/api/catalog")
@documented(
    Operation(
        "getCatalog",
        "List products for sale",
        "catalog",
        roles=(),
        replies=(
            Reply(
                200,
                "Products, their price and `available` stock: by aisle and SKU, or those "
                "matching `q`, best match first; a page of them with `limit`.",
                Catalog,
                headers=paging.ETAG_HEADER,
            ),
            Reply(304, "Not modified: the page is as the `If-None-Match` tag says."),
        ),
        params=(
            paging.QUERY,
            paging.CATEGORY,
            paging.AISLE,
            paging.LIMIT,
            paging.CURSOR,
            paging.IF_NONE_MATCH,
        ),
        description="Page with `limit` and `cursor` (`next_cursor` is null on the last "
        "page). Every answer has an `ETag`: send it back as `If-None-Match` to get 304 "
        "with no body while the page (prices and stock included) is unchanged.",
    )
)
async def catalog(request: web.Request) -> web.Response:
    found = await paging.find(request, state(request).system, paging.filters(request))
    items = [views.catalog_item(product, level) for product, level in found.described()]
    return paging.cacheable(request, {"items": items, "next_cursor": found.next_cursor})


@routes.post("/api/orders/preview")
@documented(
    Operation(
        "previewOrder",
        "Preview (price and reserve) an order",
        "orders",
        roles=("device",),
        body=PreviewRequest,
        replies=(Reply(201, "Previewed: stock reserved, prices locked.", Order),),
        problems=(409, 503),
        idempotent=True,
        description="Reserves every line or none and locks the prices; lines with the same "
        "SKU are merged. The order is PREVIEWED until `expires_at` (orders.reservation_ttl), "
        "then EXPIRED. 409 with `shortages` when stock is short; unknown SKU is 400.",
    )
)
async def preview(request: web.Request, body: PreviewRequest) -> web.Response:
    caller = request[CALLER]
    lines = [LineRequest(line.sku, line.quantity) for line in body.items]

    system = state(request).system

    async def run(key: RequestKey | None) -> web.Response:
        order = await system.preview(caller.user_id, lines, key)
        return json_response(views.order(order), status=201)

    async def again(made: Made) -> web.Response | None:
        first = await system.first_answer(caller.user_id, made, OrderKind.CUSTOMER, lambda: lines)
        return None if first is None else json_response(views.order(first), status=201)

    return await idempotent(request, caller, request[BODY], run, again=again)


@routes.post("/api/orders/{order_id}/confirm")
@documented(
    Operation(
        "confirmOrder",
        "Confirm a previewed order",
        "orders",
        roles=("device",),
        replies=(
            Reply(202, "Confirmed: robots are picking it.", OrderState),
            Reply(
                200, "Already confirmed: its current state; nothing dispatched again.", OrderState
            ),
        ),
        problems=(404, 409, 503),
        idempotent=True,
        description="PREVIEWED -> PROCESSING, and robots are dispatched. 409 for a CANCELLED, "
        "EXPIRED or FAILED order; 503 when no robot is alive for an aisle it needs. Follow "
        "it to COMPLETED on /api/events (order.updated) or by polling GET /api/orders/{id}.",
    )
)
async def confirm(request: web.Request) -> web.Response:
    caller = request[CALLER]
    order_id = request.match_info["order_id"]

    async def run(_: RequestKey | None) -> web.Response:
        done = await state(request).system.confirm(order_id, caller.user_id)
        answer = views.order_state(done.order_id, done.status)
        return json_response(answer, status=202 if done.first else 200)

    return await idempotent(request, caller, b"", run)


@routes.post("/api/orders/{order_id}/cancel")
@documented(
    Operation(
        "cancelOrder",
        "Cancel an order",
        "orders",
        roles=("device", "operator"),
        replies=(
            Reply(
                200,
                "CANCELLED: the reservation is released; robot tasks not begun are "
                "withdrawn, picked units go back on the shelf, nothing is billed.",
                OrderState,
            ),
        ),
        problems=(404, 409, 503),
        description="From PREVIEWED, or from PROCESSING until the robots' last pick is "
        "done; cancelling a CANCELLED order answers 200 again. 409 once COMPLETED, "
        "FAILED or EXPIRED, or when every item is already picked. Units picked before "
        "the cancel are put back into their lots: the ledger shows an OUT and a RETURN "
        "for each. Devices cancel their own orders, operators any.",
    )
)
async def cancel(request: web.Request) -> web.Response:
    order = await state(request).system.cancel(
        request.match_info["order_id"], owner_filter(request[CALLER])
    )
    return json_response(views.order_state(order.order_id, order.status))


@routes.get("/api/orders/{order_id}")
@documented(
    Operation(
        "getOrder",
        "Get an order",
        "orders",
        roles=("device", "operator"),
        replies=(Reply(200, "The order.", Order),),
        problems=(404,),
        description="Devices see their own orders, operators all.",
    )
)
async def get_order(request: web.Request) -> web.Response:
    order = await state(request).system.get_order(
        request.match_info["order_id"], owner_filter(request[CALLER])
    )
    return json_response(views.order(order))


@routes.get("/api/orders/{order_id}/history")
@documented(
    Operation(
        "getOrderHistory",
        "Get an order's status history",
        "orders",
        roles=("device", "operator"),
        replies=(Reply(200, "Every status it went through, oldest first.", OrderHistory),),
        problems=(404,),
    )
)
async def order_history(request: web.Request) -> web.Response:
    history = await state(request).system.order_history(
        request.match_info["order_id"], owner_filter(request[CALLER])
    )
    steps = [OrderHistoryEntry(status=status.value, at=rfc3339(at) or "") for status, at in history]
    return json_response(OrderHistory(history=steps))


@routes.get("/api/orders")
@documented(
    Operation(
        "listOrders",
        "List customer orders",
        "orders",
        roles=("device", "operator"),
        replies=(Reply(200, "A page of orders, newest first.", OrderList),),
        params=PAGE,
        description="Devices see their own orders, operators all.",
    )
)
async def list_orders(request: web.Request) -> web.Response:
    return await _listing(request, OrderKind.CUSTOMER, "orders")


@routes.post("/api/restocks")
@documented(
    Operation(
        "createRestock",
        "Deliver goods (create a restock)",
        "restocks",
        roles=("truck",),
        body=RestockRequest,
        replies=(Reply(202, "Accepted: robots are shelving it.", RestockReceipt),),
        problems=(503,),
        idempotent=True,
        description="On completion on_hand grows by exactly the quantities, one IN movement "
        "per line is recorded and prices are recomputed. Unknown SKU is 400.",
    )
)
async def restock(request: web.Request, body: RestockRequest) -> web.Response:
    caller = request[CALLER]

    system = state(request).system

    def lines() -> list[LineRequest]:
        check_count(len(body.items), system.limits.max_lines)
        return [delivered(i, line) for i, line in enumerate(body.items)]

    async def run(key: RequestKey | None) -> web.Response:
        # Inside the key's run: a refusal is remembered with its key, as every answer is.
        restock = await system.restock(caller.user_id, lines(), key)
        return json_response(views.restock_receipt(restock), status=202)

    async def again(made: Made) -> web.Response | None:
        first = await system.first_answer(caller.user_id, made, OrderKind.RESTOCK, lines)
        return None if first is None else json_response(views.restock_receipt(first), status=202)

    return await idempotent(request, caller, request[BODY], run, again=again)


@routes.get("/api/restocks/{restock_id}")
@documented(
    Operation(
        "getRestock",
        "Get a restock",
        "restocks",
        roles=("truck", "operator"),
        replies=(Reply(200, "The restock.", Restock),),
        problems=(404,),
        description="Trucks see their own restocks, operators all.",
    )
)
async def get_restock(request: web.Request) -> web.Response:
    found = await state(request).system.get_restock(
        request.match_info["restock_id"], owner_filter(request[CALLER])
    )
    return json_response(views.restock(found))


@routes.get("/api/restocks")
@documented(
    Operation(
        "listRestocks",
        "List restocks",
        "restocks",
        roles=("truck", "operator"),
        replies=(Reply(200, "A page of restocks, newest first.", RestockList),),
        params=PAGE,
        description="Trucks see their own restocks, operators all.",
    )
)
async def list_restocks(request: web.Request) -> web.Response:
    return await _listing(request, OrderKind.RESTOCK, "restocks")


async def _listing(request: web.Request, kind: OrderKind, name: str) -> web.Response:
    found, cursor = await state(request).system.list_orders(
        owner=owner_filter(request[CALLER]),
        status=request.query.get("status") or None,
        limit=query_int(request, "limit", 50),
        cursor=query_cursor(request),
        kind=kind,
    )
    view = views.restock if kind == OrderKind.RESTOCK else views.order
    shown = [view(order) for order in found]
    return json_response({name: shown, "next_cursor": str(cursor) if cursor else None})


def delivered(index: int, line: RestockLineRequest) -> LineRequest:
    """A delivery's line as the store takes it: its cost in cents and its dates (the
    body's types checked their form; here, that they are real amounts and days)."""
    where = f"items[{index}]"
    try:
        cost = parse_money(line.unit_cost)
    except ValueError as exc:
        raise ValidationError(
            f"{where}.unit_cost: {exc}", [{"field": f"{where}.unit_cost", "message": str(exc)}]
        ) from None
    return LineRequest(
        line.sku,
        line.quantity,
        cost,
        _day(line.expiry_date, f"{where}.expiry_date"),
        _day(line.mfd_date, f"{where}.mfd_date"),
    )


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = "must be a date like 2026-11-30"
        raise ValidationError(
            f"{field}: {message}", [{"field": field, "message": message}]
        ) from None

"""Catalog, customer orders (devices) and truck restocks."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.bodies import Field, json_response, query_cursor, query_int, read_json
from autogrocery.api.context import BODY, owner_filter, principal, state
from autogrocery.api.idempotency import idempotent
from autogrocery.domain.models import OrderKind

routes = web.RouteTableDef()

ITEMS = {"items": Field(list)}


@routes.get("/api/catalog")
async def catalog(request: web.Request) -> web.Response:
    principal(request)
    return json_response({"items": await state(request).system.catalog()})


@routes.post("/api/orders/preview")
async def preview(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    body = await read_json(request, ITEMS)

    async def run(key: str | None) -> web.Response:
        order = await state(request).system.preview(caller.user_id, body["items"], key)
        return json_response(order, status=201)

    return await idempotent(request, caller, request[BODY], run)


@routes.post("/api/orders/{order_id}/confirm")
async def confirm(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    order_id = request.match_info["order_id"]

    async def run(_: str | None) -> web.Response:
        result, first = await state(request).system.confirm(order_id, caller.user_id)
        return json_response(result, status=202 if first else 200)

    return await idempotent(request, caller, b"", run)


@routes.post("/api/orders/{order_id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    result = await state(request).system.cancel(request.match_info["order_id"], caller.user_id)
    return json_response(result)


@routes.get("/api/orders/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    caller = principal(request, "device", "operator")
    order = await state(request).system.get_order(
        request.match_info["order_id"], owner_filter(caller)
    )
    return json_response(order)


@routes.get("/api/orders/{order_id}/history")
async def order_history(request: web.Request) -> web.Response:
    caller = principal(request, "device", "operator")
    history = await state(request).system.order_history(
        request.match_info["order_id"], owner_filter(caller)
    )
    return json_response({"history": history})


@routes.get("/api/orders")
async def list_orders(request: web.Request) -> web.Response:
    caller = principal(request, "device", "operator")
    return await _listing(request, owner_filter(caller), OrderKind.CUSTOMER, "orders")


@routes.post("/api/restocks")
async def restock(request: web.Request) -> web.Response:
    caller = principal(request, "truck")
    body = await read_json(request, ITEMS)

    async def run(key: str | None) -> web.Response:
        receipt = await state(request).system.restock(caller.user_id, body["items"], key)
        return json_response(receipt, status=202)

    return await idempotent(request, caller, request[BODY], run)


@routes.get("/api/restocks/{restock_id}")
async def get_restock(request: web.Request) -> web.Response:
    caller = principal(request, "truck", "operator")
    found = await state(request).system.get_restock(
        request.match_info["restock_id"], owner_filter(caller)
    )
    return json_response(found)


@routes.get("/api/restocks")
async def list_restocks(request: web.Request) -> web.Response:
    caller = principal(request, "truck", "operator")
    return await _listing(request, owner_filter(caller), OrderKind.RESTOCK, "restocks")


async def _listing(
    request: web.Request, owner: str | None, kind: OrderKind, name: str
) -> web.Response:
    found, cursor = await state(request).system.list_orders(
        owner=owner,
        status=request.query.get("status") or None,
        limit=query_int(request, "limit", 50),
        cursor=query_cursor(request),
        kind=kind,
    )
    return json_response({name: found, "next_cursor": str(cursor) if cursor else None})

"""The original smart-fridge client's calls (`/api/client/*`), on the native flows."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.compat import stance
from autogrocery.api.compat.replies import bearer, once, original, read, reply
from autogrocery.api.compat.shapes import (
    LoginBody,
    OrderRef,
    PreviewBody,
    RegisterBody,
    items_map,
    order_record,
    status,
)
from autogrocery.api.compat.state import compat
from autogrocery.api.state import principal, state
from autogrocery.domain.errors import Conflict, ValidationError
from autogrocery.domain.models import LineRequest, OrderKind
from autogrocery.domain.records import Made, OrderRecord, RequestKey

routes = web.RouteTableDef()
PAGE = 500  # orders read per page for the whole history


@routes.post("/api/client/register")
@original
async def register(request: web.Request) -> web.Response:
    body = await read(request, RegisterBody)
    try:
        await state(request).auth.create_account(
            body.device_id, body.password, "device", body.email or None, body.phone or None
        )
    except ValidationError as error:  # our rules, in the client's words
        raise ValidationError(error.detail.replace("username", "device_id", 1)) from None
    except Conflict:
        raise Conflict(f"device {body.device_id!r} is already registered") from None
    return reply({"status": "success"}, 201)


@routes.post("/api/client/login")
@original
async def login(request: web.Request) -> web.Response:
    body = await read(request, LoginBody)
    tokens = await stance.login(
        state(request).auth,
        compat(request).tables,
        body.device_id,
        body.password,
        request.remote or "unknown",
    )
    return reply(tokens)


@routes.post("/api/client/refresh")
@original
async def refresh(request: web.Request) -> web.Response:
    token = bearer(request, "refresh token")
    access = await stance.refresh(state(request).auth, compat(request).tables, token)
    return reply({"access_token": access})


@routes.post("/api/client/order/preview")
@original
async def preview(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    body = await read(request, PreviewBody)
    lines = [LineRequest(line.sku, line.quantity) for line in body.items]
    _within_the_limit(lines, state(request).system.limits.max_quantity)

    system = state(request).system

    def previewed(order: OrderRecord) -> web.Response:
        return reply(
            {"status": "reserved", "order_id": order.order_id, "items": items_map(order.lines)},
            201,
        )

    async def run(key: RequestKey | None) -> web.Response:
        return previewed(await system.preview(caller.user_id, lines, key))

    async def again(made: Made) -> web.Response | None:
        first = await system.first_answer(caller.user_id, made, OrderKind.CUSTOMER, lambda: lines)
        return None if first is None else previewed(first)

    return await once(request, caller, run, again)


@routes.post("/api/client/order/confirm")
@original
async def confirm(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    body = await read(request, OrderRef)

    async def run(_: RequestKey | None) -> web.Response:
        done = await state(request).system.confirm(body.order_id, caller.user_id)
        if not done.first:  # the original confirms a PENDING order only
            raise Conflict(f"order {body.order_id} is {status(done.status)}, not PENDING")
        answer = {"order_id": done.order_id, "status": done.status.value}
        return reply(
            {
                "message": "order confirmed: robots are picking it",
                **answer,
                "details": answer,
            }
        )

    return await once(request, caller, run)


@routes.post("/api/client/order/cancel")
@original
async def cancel(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    body = await read(request, OrderRef)
    # The original cancels previews only; a confirmed order keeps its answer (409).
    await state(request).system.cancel(body.order_id, caller.user_id, previews_only=True)
    return reply({"status": "cancelled"})


@routes.get("/api/client/orders/last")
@original
async def last_order(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    found, _ = await state(request).system.list_orders(owner=caller.user_id, limit=1)
    data = order_record(found[0], caller.username) if found else None
    return reply({"status": "success", "data": data})


@routes.get("/api/client/orders")
@original
async def history(request: web.Request) -> web.Response:
    caller = principal(request, "device")
    system = state(request).system
    records: list[dict[str, object]] = []
    cursor: int | None = None
    while True:
        found, cursor = await system.list_orders(owner=caller.user_id, limit=PAGE, cursor=cursor)
        records += [order_record(order, caller.username) for order in found]
        if cursor is None:
            return reply({"status": "success", "data": records})


def _within_the_limit(lines: list[LineRequest], most: int) -> None:
    """The original has no per-line limit: it answers any quantity it cannot supply with
    "insufficient stock", the words the fridge looks for. So do we, naming our limit."""
    over = [line for line in lines if line.quantity > most]
    if over:
        said = ", ".join(f"{line.sku} (requested {line.quantity})" for line in over)
        raise Conflict(f"insufficient stock: {said}; at most {most} of a product per order")

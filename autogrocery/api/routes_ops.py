"""/api/ops: what store operators see and steer."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from autogrocery.api.bodies import Field, json_response, query_cursor, query_int, read_json
from autogrocery.api.context import principal, state
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.money import parse_money

routes = web.RouteTableDef()

PRODUCT = {
    "sku": Field(str),
    "name": Field(str),
    "aisle": Field(str),
    "unit": Field(str),
    "price": Field(str),
    "unit_cost": Field(str),
    "min_level": Field(int),
    "on_hand": Field(int, required=False),
}
PRODUCT_PATCH = {
    "price": Field(str, required=False),
    "min_level": Field(int, required=False),
    "name": Field(str, required=False),
}
ADJUST = {
    "delta": Field(int),
    "reason": Field(str),
    "note": Field(str, required=False, nullable=True),
}
ACCOUNT = {"username": Field(str), "password": Field(str), "role": Field(str)}


def _money(body: dict[str, Any], name: str, *, positive: bool = False) -> int:
    try:
        cents = parse_money(body[name])
    except ValueError as exc:
        raise ValidationError(f"{name}: {exc}", [{"field": name, "message": str(exc)}]) from None
    if positive and cents <= 0:
        raise ValidationError(f"{name} must be above 0", [{"field": name, "message": "zero"}])
    return cents


def _count(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and not 0 <= value <= 10_000_000:
        raise ValidationError(
            f"{name} must be between 0 and 10000000", [{"field": name, "message": "out of range"}]
        )
    return value  # type: ignore[no-any-return]


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not (1 <= len(value.strip()) <= 200):
        raise ValidationError(
            f"{name} must be 1-200 characters", [{"field": name, "message": "empty or too long"}]
        )
    return value.strip() if value is not None else None


@routes.get("/api/ops/inventory")
async def inventory(request: web.Request) -> web.Response:
    principal(request, "operator")
    return json_response({"items": await state(request).system.inventory()})


@routes.post("/api/ops/products")
async def add_product(request: web.Request) -> web.Response:
    caller = principal(request, "operator")
    body = await read_json(request, PRODUCT)
    sku = _text(body, "sku") or ""
    product = await state(request).system.add_product(
        sku=sku,
        name=_text(body, "name") or "",
        aisle=_text(body, "aisle") or "",
        unit=_text(body, "unit") or "",
        price=_money(body, "price", positive=True),
        unit_cost=_money(body, "unit_cost"),
        min_level=_count(body, "min_level") or 0,
        on_hand=_count(body, "on_hand") or 0,
        user=caller.username,
    )
    return json_response(product, status=201)


@routes.patch("/api/ops/products/{sku}")
async def patch_product(request: web.Request) -> web.Response:
    principal(request, "operator")
    body = await read_json(request, PRODUCT_PATCH)
    if not body:
        raise ValidationError("send at least one of price, min_level, name")
    product = await state(request).system.update_product(
        request.match_info["sku"],
        name=_text(body, "name"),
        min_level=_count(body, "min_level"),
        price=_money(body, "price", positive=True) if "price" in body else None,
    )
    return json_response(product)


@routes.post("/api/ops/stock/{sku}/adjust")
async def adjust(request: web.Request) -> web.Response:
    caller = principal(request, "operator")
    body = await read_json(request, ADJUST)
    if not -10_000_000 <= body["delta"] <= 10_000_000:
        raise ValidationError("delta is out of range", [{"field": "delta", "message": "too big"}])
    note = body.get("note")
    if note is not None and len(note) > 500:
        raise ValidationError(
            "note is longer than 500 characters", [{"field": "note", "message": "too long"}]
        )
    levels = await state(request).system.adjust_stock(
        request.match_info["sku"], body["delta"], body["reason"], note, caller.username
    )
    return json_response(levels)


@routes.get("/api/ops/movements")
async def movements(request: web.Request) -> web.Response:
    principal(request, "operator")
    found, cursor = await state(request).system.movements(
        sku=request.query.get("sku") or None,
        movement_type=request.query.get("type") or None,
        limit=query_int(request, "limit", 100),
        cursor=query_cursor(request),
    )
    return json_response({"movements": found, "next_cursor": str(cursor) if cursor else None})


@routes.get("/api/ops/robots")
async def robots(request: web.Request) -> web.Response:
    principal(request, "operator")
    return json_response({"robots": await state(request).system.robots()})


@routes.get("/api/ops/analytics")
async def analytics(request: web.Request) -> web.Response:
    principal(request, "operator")
    return json_response(await state(request).system.analytics())


@routes.get("/api/ops/reconcile")
async def reconcile(request: web.Request) -> web.Response:
    principal(request, "operator")
    items = await state(request).system.reconcile()
    return json_response({"ok": all(item["ok"] for item in items), "items": items})


@routes.get("/api/ops/alerts")
async def alerts(request: web.Request) -> web.Response:
    principal(request, "operator")
    return json_response({"alerts": await state(request).system.alerts()})


@routes.post("/api/ops/accounts")
async def create_account(request: web.Request) -> web.Response:
    principal(request, "operator")
    body = await read_json(request, ACCOUNT)
    account = await state(request).auth.create_account(
        body["username"], body["password"], body["role"]
    )
    return json_response(account, status=201)

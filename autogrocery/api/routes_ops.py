"""/api/ops: what store operators see and steer."""

from __future__ import annotations

import msgspec
from aiohttp import web

from autogrocery.api import paging, report_paging, views
from autogrocery.api.bodies import json_response, query_cursor, query_int
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.api.state import CALLER, state
from autogrocery.contract.ops import (
    AlertList,
    Analytics,
    Reconciliation,
    RobotList,
)
from autogrocery.contract.stock import (
    Inventory,
    InventoryItem,
    MovementList,
    MovementType,
    ProductCreate,
    ProductPatch,
    StockAdjustRequest,
)
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.money import parse_money

routes = web.RouteTableDef()
OPERATOR = ("operator",)


def _money(value: str, name: str, *, positive: bool = False) -> int:
    try:
        cents = parse_money(value)
    except ValueError as exc:
        raise ValidationError(f"{name}: {exc}", [{"field": name, "message": str(exc)}]) from None
    if positive and cents <= 0:
        raise ValidationError(f"{name} must be above 0", [{"field": name, "message": "zero"}])
    return cents


def _text(value: str, name: str) -> str:
    """Names are stored trimmed; blank after trimming is not a name."""
    if not value.strip():
        raise ValidationError(f"{name} is blank", [{"field": name, "message": "blank"}])
    return value.strip()


@routes.get("/api/ops/inventory")
@documented(
    Operation(
        "getInventory",
        "Stock levels, prices and costs",
        "ops",
        roles=OPERATOR,
        replies=(
            Reply(
                200,
                "Products by aisle and SKU (best match first with `q`); a page of them "
                "with `limit`.",
                Inventory,
                headers=paging.ETAG_HEADER,
            ),
            Reply(304, "Not modified: the page is as the `If-None-Match` tag says."),
        ),
        params=(
            paging.QUERY,
            Param("sku", "SKUs that start with this (case does not matter).", {"type": "string"}),
            paging.AISLE,
            paging.CATEGORY,
            Param(
                "below_min",
                "`true`: only products whose available stock is below their min_level.",
                {"type": "boolean", "default": False},
            ),
            paging.LIMIT,
            paging.CURSOR,
            paging.IF_NONE_MATCH,
        ),
        description="Page with `limit` and `cursor` as the catalog does.",
    )
)
async def inventory(request: web.Request) -> web.Response:
    wanted = paging.filters(request, operator=True)
    found = await paging.find(request, state(request).system, wanted)
    items = [views.inventory_item(level) for level in found.levels]
    return paging.cacheable(request, {"items": items, "next_cursor": found.next_cursor})


@routes.post("/api/ops/products")
@documented(
    Operation(
        "createProduct",
        "Add a product",
        "ops",
        roles=OPERATOR,
        body=ProductCreate,
        replies=(Reply(201, "Created.", InventoryItem),),
        problems=(409, 503),
        description="A new SKU in an aisle robots already serve (else 400); 409 if the SKU "
        "exists. The opening on_hand is a COUNT movement.",
    )
)
async def add_product(request: web.Request, body: ProductCreate) -> web.Response:
    product = await state(request).system.add_product(
        sku=_text(body.sku, "sku"),
        name=_text(body.name, "name"),
        aisle=_text(body.aisle, "aisle"),
        unit=_text(body.unit, "unit"),
        price=_money(body.price, "price", positive=True),
        unit_cost=_money(body.unit_cost, "unit_cost"),
        min_level=body.min_level,
        on_hand=body.on_hand,
        user=request[CALLER].username,
    )
    return json_response(views.inventory_item(product), status=201)


@routes.patch("/api/ops/products/{sku}")
@documented(
    Operation(
        "updateProduct",
        "Change a product's price, min_level or name",
        "ops",
        roles=OPERATOR,
        body=ProductPatch,
        replies=(Reply(200, "The product as it is now.", InventoryItem),),
        problems=(404, 503),
        description="Send at least one field (an empty object is 400).",
    )
)
async def patch_product(request: web.Request, body: ProductPatch) -> web.Response:
    given = msgspec.structs.asdict(body)
    if all(value is msgspec.UNSET for value in given.values()):
        raise ValidationError("send at least one of price, min_level, name")
    product = await state(request).system.update_product(
        request.match_info["sku"],
        name=_text(body.name, "name") if body.name is not msgspec.UNSET else None,
        min_level=body.min_level if body.min_level is not msgspec.UNSET else None,
        price=_money(body.price, "price", positive=True)
        if body.price is not msgspec.UNSET
        else None,
    )
    return json_response(views.inventory_item(product))


@routes.post("/api/ops/stock/{sku}/adjust")
@documented(
    Operation(
        "adjustStock",
        "Adjust stock (waste, adjustment, count)",
        "ops",
        roles=OPERATOR,
        body=StockAdjustRequest,
        replies=(Reply(200, "The product with its new levels.", InventoryItem),),
        problems=(404, 409, 503),
        description="Records one movement of type `reason`. delta is non-zero, and negative "
        "for WASTE (else 400); on_hand may never fall below reserved (409).",
    )
)
async def adjust(request: web.Request, body: StockAdjustRequest) -> web.Response:
    level = await state(request).system.adjust_stock(
        request.match_info["sku"],
        body.delta,
        body.reason,
        body.note,
        request[CALLER].username,
        body.lot_id,
    )
    return json_response(views.inventory_item(level))


@routes.get("/api/ops/movements")
@documented(
    Operation(
        "listMovements",
        "The stock ledger",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "A page of movements, newest first.", MovementList),),
        params=(
            Param("sku", "Only this SKU.", {"type": "string"}),
            Param("type", "Only this movement type.", msgspec.json.schema(MovementType)),
            Param(
                "limit",
                "Page size.",
                {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
            ),
            Param(
                "cursor",
                "The `next_cursor` of the previous page.",
                {"type": "string", "pattern": "^[0-9]{1,18}$"},
            ),
        ),
        description="For every SKU, the sum of its movements equals its on_hand.",
    )
)
async def movements(request: web.Request) -> web.Response:
    found, cursor = await state(request).system.movements(
        sku=request.query.get("sku") or None,
        movement_type=request.query.get("type") or None,
        limit=query_int(request, "limit", 100),
        cursor=query_cursor(request),
    )
    moved = [views.movement(record) for record in found]
    return json_response({"movements": moved, "next_cursor": str(cursor) if cursor else None})


@routes.get("/api/ops/robots")
@documented(
    Operation(
        "listRobots",
        "Robots and their state",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Every robot the store knows.", RobotList),),
    )
)
async def robots(request: web.Request) -> web.Response:
    robots = await state(request).system.robots()
    return json_response({"robots": [views.robot(robot) for robot in robots]})


@routes.get("/api/ops/analytics")
@documented(
    Operation(
        "getAnalytics",
        "Order and restock analytics",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "Counts, latency percentiles and throughput by kind.", Analytics),),
        problems=(503,),
    )
)
async def analytics(request: web.Request) -> web.Response:
    return json_response(await state(request).system.analytics())


@routes.get("/api/ops/reconcile")
@documented(
    Operation(
        "reconcileStock",
        "Check every SKU's stock against its ledger",
        "ops",
        roles=OPERATOR,
        replies=(
            Reply(
                200,
                "`ok` when every SKU passes; `items`: the SKUs that fail (with `limit`: a "
                "page of every SKU, in SKU order).",
                Reconciliation,
            ),
        ),
        params=(report_paging.LIMIT, report_paging.CURSOR),
        description="For every SKU on_hand must equal the sum of its movements, and "
        "0 <= reserved <= on_hand. Every SKU is checked on every call; only those that "
        "fail are listed unless a page is asked for.",
    )
)
async def reconcile(request: web.Request) -> web.Response:
    page = report_paging.sku_page(request)
    system = state(request).system
    found = await (system.reconciliation() if page is None else system.reconciliation(*page))
    following = found["next_cursor"]
    found["next_cursor"] = report_paging.cursor(following) if following else None
    return json_response(found)


@routes.get("/api/ops/alerts")
@documented(
    Operation(
        "listAlerts",
        "Open low-stock alerts",
        "ops",
        roles=OPERATOR,
        replies=(
            Reply(
                200,
                "Open alerts, oldest first: low stock (available below min_level) and lots "
                "whose best-before date is within stock.expiry_alert_days.",
                AlertList,
            ),
        ),
    )
)
async def alerts(request: web.Request) -> web.Response:
    alerts = await state(request).system.alerts()
    return json_response({"alerts": [views.alert(alert) for alert in alerts]})

"""The original truck UI's calls (`/api/truck/*`), on the native restock flow.

A manifest line may name a SKU the store does not have; with its `name` and
`aisle_type` it becomes a new product first (as in the original), priced by the
repricing rule from its unit cost. Everything is checked before anything is created.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import NoReturn

from aiohttp import web

from autogrocery.api.compat.replies import once, original, read, reply
from autogrocery.api.compat.shapes import Delivery, cents, day, restock_record
from autogrocery.api.compat.state import compat
from autogrocery.api.state import state
from autogrocery.domain.errors import Conflict, ValidationError
from autogrocery.domain.models import LineRequest, sku_problem
from autogrocery.domain.money import format_money
from autogrocery.domain.pricing import PricingRule
from autogrocery.domain.records import RequestKey
from autogrocery.domain.validation import check_lines
from autogrocery.service.system import System

routes = web.RouteTableDef()

NEW_UNIT = "each"  # the original has no units; an operator may rename it
NEW_MIN_LEVEL = 0  # no low-stock alert until an operator sets one
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class NewProduct:
    sku: str
    name: str
    aisle: str
    unit_cost: int  # cents


@routes.post("/api/truck/restock")
@original
async def restock(request: web.Request) -> web.Response:
    layer = compat(request)
    caller = await layer.truck.caller(request)
    body = await read(request, Delivery)
    system = state(request).system

    async def run(key: RequestKey | None) -> web.Response:
        lines, new = await _manifest(body, system)
        for product in new:
            await _add(system, layer.rule, product, caller.username)
        receipt = await system.restock(caller.user_id, lines, key)
        restock_id = receipt.order_id
        await layer.tables.record_supplier(restock_id, body.supplier_id, body.supplier_name)
        message = (
            f"restock accepted: {len(body.items)} line(s), total cost {format_money(receipt.total)}"
            + (f", {len(new)} new product(s)" if new else "")
            + "; robots are shelving it"
        )
        return reply({"status": "success", "order_id": restock_id, "message": message}, 201)

    # No `again`: the answer names what the restock cannot (the products this delivery
    # created), so it is noted whole; the restock still carries the key, so a retry
    # whose note was lost makes no second one.
    return await once(request, caller, run)


@routes.get("/api/truck/restock/status")
@original
async def restock_status(request: web.Request) -> web.Response:
    layer = compat(request)
    caller = await layer.truck.caller(request)
    restock_id = request.query.get("order_id", "").strip()
    if not restock_id:
        raise ValidationError("order_id is required: /api/truck/restock/status?order_id=<id>")
    found = await state(request).system.get_restock(restock_id, caller.user_id)
    supplier = await layer.tables.supplier(restock_id) or ""
    return reply({"status": "success", "data": restock_record(found, supplier)})


async def _manifest(
    body: Delivery, system: System
) -> tuple[tuple[LineRequest, ...], list[NewProduct]]:
    """The restock's lines (as the native flow takes them, dates included), and the
    products to create first. Raises ValidationError (nothing created) on bad input."""
    levels = await system.levels()
    known = {level.sku for level in levels}
    aisles = sorted({level.aisle for level in levels})
    lines: list[LineRequest] = []
    new: dict[str, NewProduct] = {}
    for i, line in enumerate(body.items):
        where = f"items[{i}]"
        cost = cents(line.unit_cost, f"{where}.unit_cost")
        mfd = day(line.mfd_date, f"{where}.mfd_date")
        expiry = day(line.expiry_date, f"{where}.expiry_date")
        if mfd and expiry and expiry < mfd:
            _invalid(f"{where}.expiry_date", f"is before mfd_date ({expiry} < {mfd})")
        sku = line.sku.strip()
        if sku and sku not in known and sku not in new:
            new[sku] = _new_product(line.name, line.aisle_type, sku, cost, aisles, where)
        lines.append(LineRequest(sku, line.quantity, cost, expiry, mfd))
    # The native checks (quantities, line count, one cost per SKU), before anything exists.
    checked = check_lines(
        lines,
        max_quantity=system.limits.max_quantity,
        max_lines=system.limits.max_lines,
        restock=True,
    )
    return checked, list(new.values())


def _new_product(
    name: str | None, aisle: str | None, sku: str, cost: int, aisles: list[str], where: str
) -> NewProduct:
    name, aisle = (name or "").strip(), (aisle or "").strip()
    if not name or not aisle:
        _invalid(where, f"unknown SKU {sku}; give its name and aisle_type to add it to the store")
    if aisle not in aisles:
        served = ", ".join(aisles)
        _invalid(f"{where}.aisle_type", f"unknown aisle {aisle!r}; robots serve {served}")
    if len(sku) > MAX_TEXT or len(name) > MAX_TEXT:
        _invalid(where, f"sku and name are at most {MAX_TEXT} characters")
    if problem := sku_problem(sku):
        _invalid(f"{where}.sku", problem)
    return NewProduct(sku, name, aisle, cost)


async def _add(system: System, rule: PricingRule, product: NewProduct, user: str) -> None:
    """A new SKU, priced as the repricing rule prices stock at its min level."""
    price = rule.price(product.unit_cost, 0, NEW_MIN_LEVEL)
    with contextlib.suppress(Conflict):  # another delivery added it meanwhile: deliver into it
        await system.add_product(
            product.sku,
            product.name,
            product.aisle,
            NEW_UNIT,
            price,
            product.unit_cost,
            NEW_MIN_LEVEL,
            user=user,
        )


def _invalid(field: str, message: str) -> NoReturn:
    raise ValidationError(f"{field}: {message}", [{"field": field, "message": message}])

"""Validation of order and restock lines, shared by the System facade and the API."""

from __future__ import annotations

from typing import Any

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.models import LineRequest
from autogrocery.domain.money import parse_money


def parse_lines(
    items: Any, *, max_quantity: int, max_lines: int, with_cost: bool = False
) -> tuple[LineRequest, ...]:
    """Turn raw `items` into lines, merging repeated SKUs. Raises ValidationError."""
    if not isinstance(items, list | tuple):
        raise ValidationError("items must be a list", [{"field": "items", "message": "not a list"}])
    if not items:
        raise ValidationError("an order needs at least one line", [_err("items", "empty")])
    if len(items) > max_lines:
        raise ValidationError(
            f"at most {max_lines} lines per order", [_err("items", f"more than {max_lines}")]
        )
    allowed = {"sku", "quantity", "unit_cost"} if with_cost else {"sku", "quantity"}
    errors: list[dict[str, str]] = []
    merged: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if isinstance(item, LineRequest):
            item = {"sku": item.sku, "quantity": item.quantity, "unit_cost": item.unit_cost}
            if not with_cost:
                del item["unit_cost"]
        if not isinstance(item, dict):
            errors.append(_err(where, "must be an object"))
            continue
        for extra in sorted(set(item) - allowed):
            errors.append(_err(f"{where}.{extra}", "unknown field"))
        sku = item.get("sku")
        quantity = item.get("quantity")
        if not isinstance(sku, str) or not sku.strip():
            errors.append(_err(f"{where}.sku", "must be a non-empty string"))
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            errors.append(_err(f"{where}.quantity", "must be an integer"))
            continue
        if not 1 <= quantity <= max_quantity:
            errors.append(_err(f"{where}.quantity", f"must be between 1 and {max_quantity}"))
            continue
        cost = 0
        if with_cost:
            try:
                cost = parse_money(item.get("unit_cost"))
            except ValueError as exc:
                errors.append(_err(f"{where}.unit_cost", str(exc)))
                continue
        if sku in merged:
            if with_cost and merged[sku][1] != cost:
                errors.append(_err(f"{where}.unit_cost", f"differs from an earlier {sku} line"))
                continue
            merged[sku][0] += quantity
            if merged[sku][0] > max_quantity:
                errors.append(_err(f"{where}.quantity", f"{sku} totals over {max_quantity}"))
        else:
            merged[sku] = [quantity, cost]
    if errors:
        raise ValidationError(errors[0]["field"] + ": " + errors[0]["message"], errors)
    return tuple(
        LineRequest(sku, qty, cost if with_cost else None) for sku, (qty, cost) in merged.items()
    )


def _err(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}

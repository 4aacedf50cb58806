"""Validation of order and restock lines, shared by the System facade and the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.models import LineRequest
from autogrocery.domain.money import parse_money

DATES = ("expiry_date", "mfd_date")


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
    allowed = {"sku", "quantity", "unit_cost", *DATES} if with_cost else {"sku", "quantity"}
    errors: list[dict[str, str]] = []
    merged: dict[tuple[str, Any], list[Any]] = {}  # by SKU (and, for restocks, dates)
    costs: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if isinstance(item, LineRequest):
            item = {
                "sku": item.sku,
                "quantity": item.quantity,
                "unit_cost": item.unit_cost,
                "expiry_date": item.expiry_date,
                "mfd_date": item.mfd_date,
            }
            if not with_cost:
                item = {"sku": item["sku"], "quantity": item["quantity"]}
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
        cost: int = 0
        dates: tuple[date | None, date | None] = (None, None)
        if with_cost:
            try:
                cost = parse_money(item.get("unit_cost"))
                dates = _dates(item, where)
            except _Bad as bad:
                errors.append(_err(bad.field, bad.message))
                continue
            except ValueError as exc:
                errors.append(_err(f"{where}.unit_cost", str(exc)))
                continue
        if with_cost and cost <= 0:  # a delivery reprices its SKU from its cost
            errors.append(_err(f"{where}.unit_cost", "must be above 0"))
            continue
        if with_cost and costs.setdefault(sku, cost) != cost:
            errors.append(_err(f"{where}.unit_cost", f"differs from an earlier {sku} line"))
            continue
        key = (sku, dates)  # a restock's lines of one SKU and different dates stay apart
        if key in merged:
            if with_cost and merged[key][2] != dates:
                errors.append(_err(f"{where}.mfd_date", f"differs from an earlier {sku} line"))
                continue
            merged[key][0] += quantity
            if merged[key][0] > max_quantity:
                errors.append(_err(f"{where}.quantity", f"{sku} totals over {max_quantity}"))
        else:
            merged[key] = [quantity, cost, dates]
    if errors:
        raise ValidationError(errors[0]["field"] + ": " + errors[0]["message"], errors)
    if not with_cost:
        return tuple(LineRequest(sku, qty) for (sku, _), (qty, _, _) in merged.items())
    return tuple(
        LineRequest(sku, qty, cost, expiry, made)
        for (sku, _), (qty, cost, (expiry, made)) in merged.items()
    )


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _dates(item: dict[str, Any], where: str) -> tuple[date | None, date | None]:
    """(expiry_date, mfd_date) of a restock line: ISO dates (YYYY-MM-DD) or absent."""
    found: dict[str, date | None] = {}
    for name in DATES:
        value = item.get(name)
        if value is None or isinstance(value, date):
            found[name] = value
            continue
        if not isinstance(value, str):
            raise _Bad(f"{where}.{name}", "must be a date like 2026-11-30")
        try:
            found[name] = date.fromisoformat(value)
        except ValueError:
            raise _Bad(f"{where}.{name}", "must be a date like 2026-11-30") from None
    expiry, made = found["expiry_date"], found["mfd_date"]
    if expiry is not None and made is not None and expiry < made:
        raise _Bad(f"{where}.expiry_date", f"is before mfd_date ({expiry} < {made})")
    return expiry, made


def _err(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}

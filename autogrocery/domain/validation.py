"""The lines of an order or a delivery, checked and merged before anything is reserved
or priced. They arrive typed (`LineRequest`, decoded at the edge: the API's bodies, the
original clients' layer); what is checked here is what a type cannot say: how many lines
and units, a SKU that is not blank, a delivery's costs and dates agreeing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.models import LineRequest


def check_lines(
    lines: Sequence[LineRequest], *, max_quantity: int, max_lines: int, restock: bool = False
) -> tuple[LineRequest, ...]:
    """The lines with repeated SKUs merged (a delivery's lines of one SKU with other
    dates stay apart: they become other lots). Raises ValidationError naming each bad
    field as `items[i].field`."""
    check_count(len(lines), max_lines)
    errors: list[dict[str, str]] = []
    merged: dict[tuple[str, date | None, date | None], int] = {}
    costs: dict[str, int] = {}
    for i, line in enumerate(lines):
        where, sku = f"items[{i}]", line.sku
        if not sku.strip():
            errors.append(_err(f"{where}.sku", "must be a non-empty string"))
            continue
        if not 1 <= line.quantity <= max_quantity:
            errors.append(_err(f"{where}.quantity", f"must be between 1 and {max_quantity}"))
            continue
        if restock and (problem := _delivery_problem(line, where, costs)) is not None:
            errors.append(problem)
            continue
        key = (sku, line.expiry_date, line.mfd_date) if restock else (sku, None, None)
        merged[key] = merged.get(key, 0) + line.quantity
        if merged[key] > max_quantity:
            errors.append(_err(f"{where}.quantity", f"{sku} totals over {max_quantity}"))
    if errors:
        raise ValidationError(errors[0]["field"] + ": " + errors[0]["message"], errors)
    if not restock:
        return tuple(LineRequest(sku, quantity) for (sku, _, _), quantity in merged.items())
    return tuple(
        LineRequest(sku, quantity, costs[sku], expiry, made)
        for (sku, expiry, made), quantity in merged.items()
    )


def check_count(count: int, max_lines: int) -> None:
    """1 to `max_lines` lines: checked first, before anything of a line."""
    if not count:
        raise ValidationError("an order needs at least one line", [_err("items", "empty")])
    if count > max_lines:
        raise ValidationError(
            f"at most {max_lines} lines per order", [_err("items", f"more than {max_lines}")]
        )


def _delivery_problem(
    line: LineRequest, where: str, costs: dict[str, int]
) -> dict[str, str] | None:
    """What is wrong with a delivery's line: goods expiring before they were made, or a
    cost that is none (a delivery reprices its SKU from it) or differs from its SKU's
    earlier line. A line found good records its SKU's cost."""
    expiry, made = line.expiry_date, line.mfd_date
    if expiry is not None and made is not None and expiry < made:
        return _err(f"{where}.expiry_date", f"is before mfd_date ({expiry} < {made})")
    cost = line.unit_cost or 0
    if cost <= 0:
        return _err(f"{where}.unit_cost", "must be above 0")
    if costs.setdefault(line.sku, cost) != cost:
        return _err(f"{where}.unit_cost", f"differs from an earlier {line.sku} line")
    return None


def _err(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}

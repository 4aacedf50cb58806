"""Validation for the dashboard's forms, before anything is sent. Each parser returns
the request body or raises `FormError` with every problem found, one per line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from autogrocery.domain.money import format_money, parse_money

MAX_QUANTITY = 1000
MAX_LINES = 100
REASONS = ("WASTE", "ADJUST", "COUNT")
MANIFEST_HELP = "one line per item: SKU QUANTITY [UNIT_COST], e.g. BRD-001 40 3.10"


class FormError(ValueError):
    pass


Inventory = Mapping[str, Mapping[str, Any]]


def _known(sku: str, inventory: Inventory, where: str = "") -> str | None:
    if not inventory:
        return "the inventory is not loaded yet (is the store connected?)"
    if sku not in inventory:
        return f"{where}unknown SKU {sku!r}"
    return None


def _whole(text: str, name: str, *, low: int, high: int) -> tuple[int | None, str | None]:
    text = text.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        return (
            None,
            f"{name} must be a whole number, got {text!r}" if text else f"{name} is missing",
        )
    value = int(text)
    if not low <= value <= high:
        return None, f"{name} must be between {low} and {high}, got {value}"
    return value, None


def _money(text: str, name: str, *, positive: bool) -> tuple[int | None, str | None]:
    try:
        cents = parse_money(text.strip())
    except ValueError as exc:
        return None, f"{name}: {exc}"
    if positive and cents <= 0:
        return None, f"{name} must be above 0"
    return cents, None


def parse_manifest(text: str, inventory: Inventory) -> list[dict[str, Any]]:
    """`SKU QUANTITY [UNIT_COST]` per line (or `;`-separated); the cost defaults to the
    product's current unit cost."""
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    entries = [e.strip() for e in re.split(r"[\n;]", text)]
    for number, entry in enumerate(entries, start=1):
        if not entry:
            continue
        where = f"line {number}: "
        parts = entry.replace(",", " ").split()
        if len(parts) not in (2, 3):
            errors.append(f"{where}expected SKU QUANTITY [UNIT_COST], got {entry!r}")
            continue
        sku = parts[0].upper()
        if problem := _known(sku, inventory, where):
            errors.append(problem)
            continue
        quantity, problem = _whole(parts[1], "quantity", low=1, high=MAX_QUANTITY)
        if problem:
            errors.append(where + problem)
            continue
        if len(parts) == 3:
            cost, problem = _money(parts[2], "unit cost", positive=False)
            if problem:
                errors.append(where + problem)
                continue
            unit_cost = format_money(cost or 0)
        else:
            unit_cost = str(inventory[sku].get("unit_cost") or "")
            if not unit_cost:
                errors.append(f"{where}{sku} has no unit cost yet: give one")
                continue
        items.append({"sku": sku, "quantity": quantity, "unit_cost": unit_cost})
    if not items and not errors:
        errors.append(f"the manifest is empty: {MANIFEST_HELP}")
    if len(items) > MAX_LINES:
        errors.append(f"at most {MAX_LINES} lines per manifest")
    if errors:
        raise FormError("\n".join(errors))
    return items


def parse_adjust(
    sku: str, delta: str, reason: object, note: str, inventory: Inventory
) -> tuple[str, int, str, str | None]:
    errors = []
    sku = sku.strip().upper()
    if problem := _known(sku, inventory):
        errors.append(problem)
    change, problem = _whole(delta, "delta", low=-10_000_000, high=10_000_000)
    if problem:
        errors.append(problem)
    elif change == 0:
        errors.append("delta must not be 0")
    if reason not in REASONS:
        errors.append(f"reason must be one of {', '.join(REASONS)}")
    if len(note) > 500:
        errors.append("note must be at most 500 characters")
    if errors:
        raise FormError("\n".join(errors))
    return sku, int(change or 0), str(reason), note.strip() or None


def parse_product(
    sku: str, price: str, min_level: str, inventory: Inventory
) -> tuple[str, dict[str, Any]]:
    errors = []
    sku = sku.strip().upper()
    if problem := _known(sku, inventory):
        errors.append(problem)
    fields: dict[str, Any] = {}
    if price.strip():
        cents, problem = _money(price, "price", positive=True)
        if problem:
            errors.append(problem)
        else:
            fields["price"] = format_money(cents or 0)
    if min_level.strip():
        level, problem = _whole(min_level, "min level", low=0, high=10_000_000)
        if problem:
            errors.append(problem)
        else:
            fields["min_level"] = level
    if not fields and not errors:
        errors.append("give a new price, a new min level, or both")
    if errors:
        raise FormError("\n".join(errors))
    return sku, fields

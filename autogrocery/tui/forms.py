"""Validation for the dashboard's forms, before anything is sent. Each parser returns
the request body or raises `FormError` with every problem found, one per line; the
`check_*` functions judge one field as it is typed. `plain()` puts the store's error
answers in an operator's words."""

from __future__ import annotations

import re
from collections.abc import Mapping

from autogrocery.contract.stock import InventoryItem
from autogrocery.domain.money import format_money, parse_money
from autogrocery.tui.client import ManifestLine, ProductChange

MAX_QUANTITY = 1000
MAX_LINES = 100
REASONS = ("WASTE", "ADJUST", "COUNT")
MANIFEST_HELP = "one line per item: SKU QUANTITY [UNIT_COST], e.g. BRD-001 40 3.10"


class FormError(ValueError):
    pass


class BelowCost(FormError):
    """A price below the unit cost: allowed, once the operator confirms it."""


Inventory = Mapping[str, InventoryItem]


def _known(sku: str, inventory: Inventory, where: str = "") -> str | None:
    if not inventory:
        return "the inventory is not loaded yet (is the store connected?)"
    if sku not in inventory:
        return f"{where}unknown SKU {sku!r}"
    return None


def whole(text: str, name: str, *, low: int, high: int) -> tuple[int | None, str | None]:
    """(the number, None), or (None, what is wrong with `text`)."""
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


def money(text: str, name: str, *, positive: bool) -> tuple[int | None, str | None]:
    """(cents, None), or (None, what is wrong with `text`)."""
    try:
        cents = parse_money(text.strip())
    except ValueError as exc:
        return None, f"{name}: {exc}"
    if positive and cents <= 0:
        return None, f"{name} must be above 0"
    return cents, None


def check_whole(text: str, name: str, *, low: int, high: int) -> str | None:
    """The problem with a whole-number field as typed so far, if any (empty is fine
    until submit)."""
    return whole(text, name, low=low, high=high)[1] if text.strip() else None


def check_money(text: str, name: str) -> str | None:
    return money(text, name, positive=True)[1] if text.strip() else None


def parse_manifest(text: str, inventory: Inventory) -> list[ManifestLine]:
    """`SKU QUANTITY [UNIT_COST]` per line (or `;`-separated); the cost defaults to the
    product's current unit cost."""
    items: list[ManifestLine] = []
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
        quantity, problem = whole(parts[1], "quantity", low=1, high=MAX_QUANTITY)
        if quantity is None:
            errors.append(where + str(problem))
            continue
        if len(parts) == 3:
            cost, problem = money(parts[2], "unit cost", positive=True)
            if problem:
                errors.append(where + problem)
                continue
            unit_cost = format_money(cost or 0)
        else:
            unit_cost = inventory[sku].unit_cost
            if not unit_cost or parse_money(unit_cost) <= 0:
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
    change, problem = whole(delta, "delta", low=-10_000_000, high=10_000_000)
    if problem:
        errors.append(problem)
    elif change == 0:
        errors.append("delta must not be 0")
    elif reason == "WASTE" and (change or 0) > 0:
        errors.append(f"waste takes stock away: give a negative delta, e.g. -{change}")
    elif (change or 0) < 0 and sku in inventory:
        item = inventory[sku]
        errors.extend(filter(None, [too_few(item.on_hand, item.reserved, -(change or 0))]))
    if reason not in REASONS:
        errors.append(f"reason must be one of {', '.join(REASONS)}")
    if len(note) > 500:
        errors.append("note must be at most 500 characters")
    if errors:
        raise FormError("\n".join(errors))
    return sku, int(change or 0), str(reason), note.strip() or None


def too_few(on_hand: int, reserved: int, taking: int) -> str | None:
    """Plain words for taking more than is free to take (on hand less reserved)."""
    if on_hand - taking >= reserved:
        return None
    if reserved:
        return (
            f"only {on_hand:,} on hand and {reserved:,} of them reserved for orders; "
            f"cannot remove {taking:,} (at most {max(0, on_hand - reserved):,})"
        )
    return f"only {on_hand:,} on hand; cannot remove {taking:,}"


def parse_product(
    sku: str,
    price: str,
    min_level: str,
    inventory: Inventory,
    *,
    below_cost_ok: bool = False,
) -> tuple[str, ProductChange]:
    """Raises `BelowCost` (alone) for a price below the unit cost, unless `below_cost_ok`."""
    errors = []
    sku = sku.strip().upper()
    if problem := _known(sku, inventory):
        errors.append(problem)
    fields: ProductChange = {}
    if price.strip():
        cents, problem = money(price, "price", positive=True)
        if problem:
            errors.append(problem)
        else:
            fields["price"] = format_money(cents or 0)
    if min_level.strip():
        level, problem = whole(min_level, "min level", low=0, high=10_000_000)
        if level is None:
            errors.append(str(problem))
        else:
            fields["min_level"] = level
    if not fields and not errors:
        errors.append("give a new price, a new min level, or both")
    if errors:
        raise FormError("\n".join(errors))
    cost = inventory[sku].unit_cost
    new_price = fields.get("price")
    below = new_price is not None and cost and parse_money(new_price) < parse_money(cost)
    if below and not below_cost_ok:
        raise BelowCost(
            f"{new_price} is below {sku}'s unit cost {cost}: every sale would lose "
            "money. Press ctrl+s again to set it anyway, or change the price."
        )
    return sku, fields


PLAIN_STATUS = {
    401: "the store no longer accepts this login",
    403: "this login may not do that",
    404: "the store does not know it",
    413: "too much at once for the store",
    429: "too many tries",
    503: "the store cannot do it now",
    0: "the store answered what the dashboard does not understand",  # UnexpectedAnswer
}
# The stock actor's refusal to take more than is free (actors/stock_keeping.py).
ADJUST_CONFLICT = re.compile(r"on hand (\d+), (\d+) reserved for orders\); cannot take (\d+)")


def plain(
    status: int,
    detail: str,
    errors: list[dict[str, object]] | None = None,
    *,
    server: str = "the store",
) -> str:
    """An error answer of the store (or of `server`) in plain words: what went wrong,
    not the HTTP code."""
    if status == 409 and (found := ADJUST_CONFLICT.search(detail)):
        on_hand, reserved, taking = (int(n) for n in found.groups())
        return too_few(on_hand, reserved, taking) or detail
    said = PLAIN_STATUS.get(status, "the store refused it").replace("the store", server)
    lines = [detail or said]
    if status in PLAIN_STATUS and detail:
        lines[0] = f"{said}: {detail}"
    for error in errors or []:
        lines.append(f"{error.get('field', '?')}: {error.get('message', '')}")
    return "\n".join(lines)

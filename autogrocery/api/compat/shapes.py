"""What the original clients send and read (docs/original-devices.md), as typed
bodies and Go-style records.

The original server is Go: request fields it does not know are ignored, record fields
carry Go names (`OrderID`, `TotalPrice`, ...), money is a float64 (a JSON number), and
a not-yet-confirmed order is `PENDING`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.models import Lines, OrderStatus, rfc3339
from autogrocery.domain.money import CENT, MAX_CENTS, parse_money
from autogrocery.domain.records import OrderRecord

# --- request bodies (unknown fields are ignored, as Go's decoder does) -------------------


class RegisterBody(msgspec.Struct):
    device_id: str
    password: str
    email: str | None = None
    phone: str | None = None


class LoginBody(msgspec.Struct):
    device_id: str
    password: str


class LineBody(msgspec.Struct):
    sku: str
    quantity: int


class PreviewBody(msgspec.Struct):
    items: list[LineBody]


class OrderRef(msgspec.Struct):
    """Confirm and cancel. Confirm's `items` are the previewed ones: the order's lines
    were fixed (and their stock reserved) at preview, so they are not read again."""

    order_id: str


class DeliveryLine(msgspec.Struct):
    sku: str
    quantity: int
    unit_cost: Decimal  # a JSON number, read exactly as written (2.3 is 2.30, not 2.2999…)
    name: str | None = None
    aisle_type: str | None = None
    mfd_date: str | None = None
    expiry_date: str | None = None


class Delivery(msgspec.Struct):
    supplier_id: str
    supplier_name: str
    items: list[DeliveryLine]


# --- values -------------------------------------------------------------------------------

_STATUS = {OrderStatus.PREVIEWED: "PENDING"}  # every other status has its own name


def status(native: OrderStatus) -> str:
    return _STATUS.get(native, native.value)


def amount(cents: int) -> float:
    """Our 965 cents as the original's float64 9.65, a JSON number (written as 9.65: the
    division is correctly rounded, to the float nearest 9.65)."""
    return cents / 100


# The original keeps costs as float64: a number a float's rounding put a hair off a cent
# (0.1 + 0.2 sent as 0.30000000000000004) is that cent; 1.005 is a real sub-cent amount.
FLOAT_NOISE = Decimal("1e-9")


def cents(value: Decimal, field: str) -> int:
    """A float cost as money, exactly: at most two decimal places, else 400."""
    if value.is_finite() and abs(value) < MAX_CENTS:
        nearest = value.quantize(CENT)
        if value != nearest and abs(value - nearest) < FLOAT_NOISE:
            value = nearest
    try:
        return parse_money(value)
    except ValueError as exc:
        raise ValidationError(f"{field}: {exc}", [{"field": field, "message": str(exc)}]) from None


def day(value: str | None, field: str) -> date | None:
    """`YYYY-MM-DD`, or an RFC 3339 time (the truck UI sends midnight UTC, `…T00:00:00Z`)
    as its UTC date; blank is no date."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"must be a date like 2026-12-31, got {value!r}"
        errors = [{"field": field, "message": message}]
        raise ValidationError(f"{field}: {message}", errors) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


# --- records (Go struct fields, no JSON tags) ---------------------------------------------


def items_map(lines: Lines) -> dict[str, int]:
    """Lines as the original's mapping sku -> quantity (the fridge calls `.items()` on it)."""
    return {line.sku: line.quantity for line in lines}


def order_record(order: OrderRecord, device_id: str) -> dict[str, object]:
    """A customer order as the fridge reads it."""
    return {
        "OrderID": order.order_id,
        "DeviceID": device_id,
        "Status": status(order.status),
        "Items": items_map(order.lines),
        "TotalPrice": amount(order.total),
        "CreatedAt": rfc3339(order.created_at),
    }


def restock_record(restock: OrderRecord, supplier_id: str) -> dict[str, object]:
    """A restock as the truck UI reads it."""
    return {
        "OrderID": restock.order_id,
        "SupplierID": supplier_id,
        "Status": status(restock.status),
        "TotalCost": amount(restock.total),
        "CreatedAt": rfc3339(restock.created_at),
    }

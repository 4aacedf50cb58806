"""The API's Structs for the dashboard's tests, from the few fields a test cares about.

The dashboard keeps the API's own Structs (`autogrocery/contract/`), which have every
field the API sends; a test names the fields it means, and these fill in the rest with
blank values (no text, zero, no time) that no panel shows differently. Each is decoded
with `msgspec.convert`, as strictly as the client decodes the store's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from autogrocery.contract.events import Event
from autogrocery.contract.ops import (
    Alert,
    Analytics,
    ExpiringLot,
    ReorderReport,
    Robot,
    UsageReport,
    WasteReport,
)
from autogrocery.contract.orders import Order, Restock
from autogrocery.contract.stock import InventoryItem

Fields = Mapping[str, Any]  # as JSON decodes: what a test writes, the API's field names


def item(fields: Fields) -> InventoryItem:
    """A product's levels; `available` is on hand less reserved less expired if not given."""
    given = {"on_hand": 0, "reserved": 0, "expired": 0} | dict(fields)
    available = given["on_hand"] - given["reserved"] - given["expired"]
    blank = {"name": "", "aisle": "", "available": available, "min_level": 0}
    return msgspec.convert(blank | {"price": "0.00", "unit_cost": "0.00"} | given, InventoryItem)


def order(fields: Fields) -> Order:
    lines = [_line(ln, "unit_price") for ln in fields.get("items") or []]
    blank = {"kind": "CUSTOMER", "total": "0.00", "created_at": "", "latency_ms": None}
    blank |= {"confirmed_at": None, "completed_at": None}
    return msgspec.convert(blank | dict(fields) | {"items": lines}, Order)


def restock(fields: Fields) -> Restock:
    lines = [_line(ln, "unit_cost") for ln in fields.get("items") or []]
    lines = [{"expiry_date": None, "mfd_date": None} | ln for ln in lines]
    blank = {"kind": "RESTOCK", "total_cost": "0.00", "created_at": "", "latency_ms": None}
    blank |= {"completed_at": None}
    return msgspec.convert(blank | dict(fields) | {"items": lines}, Restock)


def _line(fields: Fields, price: str) -> dict[str, Any]:
    return {"name": "", "aisle": "", price: "0.00", "line_total": "0.00"} | dict(fields)


def robot(fields: Fields) -> Robot:
    blank = {"aisle": "", "host": "", "state": "idle", "last_seen": None}
    return msgspec.convert(blank | {"tasks_done": 0, "tasks_failed": 0} | dict(fields), Robot)


def alert(fields: Fields) -> Alert:
    blank = {"kind": "low", "name": "", "aisle": "", "available": 0, "min_level": 0}
    return msgspec.convert(blank | {"raised_at": ""} | dict(fields), Alert)


def event(kind: str, data: object, *, at: str = "", seq: int = 1) -> Event:
    """A live event of type `kind` carrying `data` (a Struct, or the Struct's fields)."""
    frame = {"type": kind, "seq": seq, "at": at, "data": msgspec.to_builtins(data)}
    found: Event = msgspec.convert(frame, Event)
    return found


def frame(recorded: Mapping[str, Any], seq: int) -> Event:
    """An event recorded from a store before some fields were added to the contract (no
    `seq`; a product without its price, cost or expired units), completed blank."""
    data, kind = recorded["data"], recorded["type"]
    if kind == "stock.changed":
        data = item({"price": "0.00", "unit_cost": "0.00"} | data)
    elif kind == "order.updated":
        data = order(data)
    elif kind == "restock.updated":
        data = restock(data)
    elif kind == "robot.updated":
        data = robot(data)
    return event(kind, data, at=recorded.get("at", ""), seq=seq)


def analytics(fields: Fields) -> Analytics:
    """`cancelled`, if not given (recorded before the store counted it), 0."""
    kinds = {kind: {"cancelled": 0} | dict(figures) for kind, figures in fields.items()}
    return msgspec.convert(kinds, Analytics)


def expiring(fields: Fields) -> ExpiringLot:
    return msgspec.convert(fields, ExpiringLot)


def usage(fields: Fields) -> UsageReport:
    """`span_days`, if not given, the period's days: the store is older than it."""
    return msgspec.convert({"span_days": 7.0} | dict(fields), UsageReport)


def waste(fields: Fields) -> WasteReport:
    return msgspec.convert(fields, WasteReport)


def reorder(fields: Fields) -> ReorderReport:
    """`span_days`, if not given, the usage's days: the store is older than they are."""
    return msgspec.convert({"span_days": float(fields["usage_days"])} | dict(fields), ReorderReport)

"""Core value types shared by actors, store and API."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class OrderKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    RESTOCK = "RESTOCK"


class OrderStatus(StrEnum):
    PREVIEWED = "PREVIEWED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


FINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED}
)


class MovementType(StrEnum):
    IN = "IN"
    OUT = "OUT"
    WASTE = "WASTE"
    ADJUST = "ADJUST"
    COUNT = "COUNT"


OPERATOR_REASONS = frozenset({MovementType.WASTE, MovementType.ADJUST, MovementType.COUNT})


class TaskKind(StrEnum):
    PICK = "PICK"
    SHELVE = "SHELVE"


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    aisle: str
    unit: str
    price: int  # cents
    unit_cost: int  # cents
    stock: int
    min_level: int


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One requested line: quantity of a SKU, and for restocks its unit cost in cents."""

    sku: str
    quantity: int
    unit_cost: int | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def now() -> float:
    return time.time()


def rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""The inventory actor's state: stock per SKU, stock orders in flight, robot work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autogrocery.domain.messages import RobotTask
from autogrocery.domain.models import OrderKind

RESERVED, DISPATCHED, FINALIZED, RELEASED, FAILED = (
    "RESERVED",
    "DISPATCHED",
    "FINALIZED",
    "RELEASED",
    "FAILED",
)


class AlreadyDone(Exception):
    """A compare-and-set found the work done before: roll back, change nothing."""


@dataclass(slots=True)
class Stock:
    sku: str
    name: str
    aisle: str
    unit: str
    on_hand: int
    reserved: int
    min_level: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def view(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "aisle": self.aisle,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "min_level": self.min_level,
        }


@dataclass(slots=True)
class Held:
    """A stock order still holding or moving stock (RESERVED or DISPATCHED)."""

    kind: OrderKind
    state: str
    lines: list[dict[str, Any]]  # sku, quantity, unit_price, unit_cost


@dataclass(slots=True)
class Work:
    """An order whose robot tasks are out."""

    kind: OrderKind
    pending: dict[str, RobotTask] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RobotPolicy:
    max_attempts: int
    retry_backoff: float
    retry_backoff_max: float

    def backoff(self, attempt: int) -> float:
        return min(self.retry_backoff * 2 ** (attempt - 1), self.retry_backoff_max)

"""What actors answer: frozen records, shaped into the API's JSON by `views`."""

from __future__ import annotations

from dataclasses import dataclass

from autogrocery.domain.models import Lines, OrderKind, OrderStatus


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order or restock as stored. `total` is in cents: the preview total of an
    order, the bill once it completed, and the total cost of a restock."""

    order_id: str
    kind: OrderKind
    owner: str
    status: OrderStatus
    total: int
    lines: Lines
    created_at: float
    confirmed_at: float | None = None
    completed_at: float | None = None
    expires_at: float | None = None
    reason: str | None = None
    request_key: str | None = None

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True, slots=True)
class Confirmation:
    order_id: str
    status: OrderStatus
    first: bool  # this call confirmed it (False: it was confirmed before)


@dataclass(frozen=True, slots=True)
class StockLevel:
    """One product's stock and price. `reserved` is what open orders hold."""

    sku: str
    name: str
    aisle: str
    unit: str
    on_hand: int
    reserved: int
    min_level: int
    price: int  # cents; 0: not for sale
    unit_cost: int  # cents

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def low(self) -> bool:
        return self.available < self.min_level


@dataclass(frozen=True, slots=True)
class Alert:
    level: StockLevel
    raised_at: float

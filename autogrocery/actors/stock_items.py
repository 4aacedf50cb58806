"""The stock actor's record of one product: levels and price, kept equal to the store
(on_hand, price) or derived at start (reserved)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from autogrocery.domain.records import StockLevel
from autogrocery.domain.views import stock_view


@dataclass(slots=True)
class Item:
    sku: str
    name: str
    aisle: str
    unit: str
    on_hand: int
    reserved: int
    min_level: int
    price: int = 0  # cents; 0: not for sale
    unit_cost: int = 0
    priced_at: float | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def low(self) -> bool:
        return self.available < self.min_level

    def level(self) -> StockLevel:
        return StockLevel(
            self.sku,
            self.name,
            self.aisle,
            self.unit,
            self.on_hand,
            self.reserved,
            self.min_level,
            self.price,
            self.unit_cost,
        )

    def view(self) -> dict[str, Any]:
        return stock_view(self.level())

    def product_row(self) -> tuple[Any, ...]:
        return (
            self.sku,
            self.name,
            self.aisle,
            self.unit,
            self.on_hand,
            self.min_level,
            self.price,
            self.unit_cost,
            self.priced_at,
        )

    def update_row(self) -> tuple[Any, ...]:
        return (self.name, self.min_level, self.price, self.unit_cost, self.priced_at, self.sku)


def load_items(rows: Iterable[Any]) -> dict[str, Item]:
    return {
        row["sku"]: Item(
            row["sku"],
            row["name"],
            row["aisle"],
            row["unit"],
            row["on_hand"],
            0,
            row["min_level"],
            row["price"],
            row["unit_cost"],
            row["priced_at"],
        )
        for row in rows
    }

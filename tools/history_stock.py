"""The stock a filled history keeps in memory while it is made, as the stock actor
keeps it (autogrocery/actors/stock_items.py): a product's stock is the sum of its lots;
dated lots are used first-expired-first-out and the undated lot last; an expired lot
is never sold and is written off by the expiry sweep; a dated delivery is a lot of
its own, an undated one goes into the undated lot at the average cost.

Dates are day ordinals (`date.toordinal()`) here, for speed; the rows get ISO dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from autogrocery.domain.models import Product
from autogrocery.store.db import undated_lot

NO_DATE = 10**9  # sorts an undated lot after every dated one


@dataclass(slots=True)
class SimLot:
    lot_id: str
    sku: str
    expiry: int | None  # a day ordinal; None: undated
    mfd: int | None
    unit_cost: int
    on_hand: int
    received_at: float
    ref: str | None

    def row(self) -> tuple[Any, ...]:
        """As `Lot.row` writes it (lot_id, sku, expiry, mfd, cost, on_hand, received, ref)."""
        return (
            self.lot_id,
            self.sku,
            iso(self.expiry),
            iso(self.mfd),
            self.unit_cost,
            self.on_hand,
            self.received_at,
            self.ref,
        )


@dataclass(slots=True)
class SimItem:
    product: Product
    price: int
    unit_cost: int
    priced_at: float
    lots: list[SimLot] = field(default_factory=list)  # FEFO order
    emptied: list[SimLot] = field(default_factory=list)  # dated lots with no stock left
    low_since: float | None = None  # when its available stock fell below min level

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def on_hand(self) -> int:
        return sum(lot.on_hand for lot in self.lots)

    def available(self, today: int) -> int:
        return sum(lot.on_hand for lot in self.lots if lot.expiry is None or lot.expiry >= today)

    def take(self, quantity: int, today: int) -> list[tuple[SimLot, int]]:
        """Lots to take `quantity` from, FEFO, good lots only; [] if there is not that
        much. Nothing is taken yet."""
        found: list[tuple[SimLot, int]] = []
        wanted = quantity
        for lot in self.lots:
            if lot.expiry is not None and lot.expiry < today:
                continue
            part = min(lot.on_hand, wanted)
            if part > 0:
                found.append((lot, part))
                wanted -= part
                if not wanted:
                    return found
        return []

    def undated(self) -> SimLot | None:
        last = self.lots[-1] if self.lots else None
        return last if last is not None and last.expiry is None else None

    def add_lot(self, lot: SimLot) -> None:
        self.lots.append(lot)
        self.lots.sort(key=_fefo)

    def drop_empty(self) -> None:
        """Dated lots without stock leave the working list (they stay in the store)."""
        if any(lot.on_hand == 0 and lot.expiry is not None for lot in self.lots):
            self.emptied.extend(lot for lot in self.lots if lot.on_hand == 0 and lot.expiry)
            self.lots = [lot for lot in self.lots if lot.on_hand or lot.expiry is None]

    def all_lots(self) -> list[SimLot]:
        return [*self.emptied, *self.lots]


def opening_item(product: Product, at: float) -> SimItem:
    """A product as `seed_catalog` opens it: its stock counted into its undated lot."""
    item = SimItem(product, product.price, product.unit_cost, at)
    sku = product.sku
    item.lots.append(
        SimLot(
            undated_lot(sku), sku, None, None, product.unit_cost, product.stock, at, "opening-stock"
        )
    )
    return item


def _fefo(lot: SimLot) -> tuple[int, float]:
    return (lot.expiry, lot.received_at) if lot.expiry is not None else (NO_DATE, 0.0)


@cache
def iso(day: int | None) -> str | None:
    return None if day is None else date.fromordinal(day).isoformat()

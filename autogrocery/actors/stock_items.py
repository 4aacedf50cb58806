"""The stock actor's records: products, the lots they are held in, and what open orders
hold of them.

A product's stock is the sum of its lots. A lot has a best-before date or none (the
product's undated lot). Lots are used first-expired-first-out: dated lots by date, the
undated lot last; an expired lot is never reserved or sold. What an open order holds
is allocated to lots when it is previewed (FEFO) and taken from those lots when it
settles. On_hand and lots are kept equal to the store; holds are derived at start
from the open orders' lines (see stock.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from autogrocery.domain.models import Lines, ProductDetails
from autogrocery.domain.records import LotLevel, StockLevel
from autogrocery.store.db import undated_lot
from autogrocery.store.stock_tables import (
    LotInsert,
    LotRow,
    ProductInsert,
    ProductRow,
    ProductUpdate,
)

Allocation = tuple["Lot", int]  # a lot, and how much of it


@dataclass(slots=True)
class Lot:
    lot_id: str
    sku: str
    expiry: date | None
    mfd: date | None
    unit_cost: int  # cents: the waste's value
    on_hand: int
    received_at: float
    held: int = 0  # allocated to open orders

    @property
    def free(self) -> int:
        return self.on_hand - self.held

    def expired(self, today: date) -> bool:
        return self.expiry is not None and self.expiry < today

    def order(self) -> tuple[int, date, float]:
        """FEFO: the earliest best-before first, the undated lot last."""
        return (0, self.expiry, self.received_at) if self.expiry else (1, date.max, 0.0)

    def row(self, ref: str | None) -> LotInsert:
        return (
            self.lot_id,
            self.sku,
            _iso(self.expiry),
            _iso(self.mfd),
            self.unit_cost,
            self.on_hand,
            self.received_at,
            ref,
        )

    def level(self, today: date) -> LotLevel:
        return LotLevel(
            self.lot_id,
            self.sku,
            self.expiry,
            self.on_hand,
            self.held,
            self.unit_cost,
            self.expired(today),
        )


@dataclass(slots=True)
class Item:
    sku: str
    name: str
    aisle: str
    unit: str
    min_level: int
    price: int = 0  # cents; 0: not for sale
    unit_cost: int = 0
    priced_at: float | None = None
    lots: list[Lot] = field(default_factory=list)  # FEFO order
    details_version: int = 0  # 0: from the catalog file; else the catalog version's
    # The details as stored (JSON), parsed on the first read: at 50,000 SKUs parsing
    # them all is seconds of a restart and ~25 MB that few stores ever read.
    details_json: str | None = None
    _details: ProductDetails | None = None

    @property
    def details(self) -> ProductDetails | None:
        if self._details is None and self.details_json is not None:
            self._details = ProductDetails.from_json(self.details_json)
        return self._details

    @details.setter
    def details(self, details: ProductDetails | None) -> None:
        self._details = details
        self.details_json = details.to_json() if details is not None else None

    @property
    def on_hand(self) -> int:
        return sum(lot.on_hand for lot in self.lots)

    @property
    def reserved(self) -> int:
        return sum(lot.held for lot in self.lots)

    def expired(self, today: date) -> int:
        """Stock in expired lots that no order holds: waiting to be written off."""
        return sum(lot.free for lot in self.lots if lot.expired(today))

    def available(self, today: date) -> int:
        # A plain loop: the reorder report asks it of 50,000 items at once, and a
        # generator with a property and a method call per lot took twice as long.
        total = 0
        for lot in self.lots:
            if lot.expiry is None or lot.expiry >= today:
                total += lot.on_hand - lot.held
        return total

    def low(self, today: date) -> bool:
        return self.available(today) < self.min_level

    def allocate(
        self, quantity: int, today: date, *, expired_too: bool = False
    ) -> list[Allocation]:
        """Lots to take `quantity` from, FEFO, or [] if there is not that much. With
        `expired_too`, expired lots come last (a hold made before they expired)."""
        found: list[Allocation] = []
        wanted = quantity
        for lot in self._candidates(today, expired_too):
            take = min(lot.free, wanted)
            if take > 0:
                found.append((lot, take))
                wanted -= take
                if not wanted:
                    return found
        return []

    def _candidates(self, today: date, expired_too: bool) -> list[Lot]:
        good = [lot for lot in self.lots if not lot.expired(today)]
        return good + [lot for lot in self.lots if lot.expired(today)] if expired_too else good

    def lot(self, lot_id: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.lot_id == lot_id), None)

    def undated(self) -> Lot | None:
        return self.lot(undated_lot(self.sku))

    def add_lot(self, lot: Lot) -> None:
        self.lots.append(lot)
        self.lots.sort(key=Lot.order)

    def level(self, today: date, *, described: bool = True) -> StockLevel:
        # One pass over the lots, not one per figure: a product of a store with
        # history holds several dated lots, and a batch reads each touched one's level.
        on_hand = reserved = expired = 0
        for lot in self.lots:
            on_hand += lot.on_hand
            reserved += lot.held
            if lot.expiry is not None and lot.expiry < today:
                expired += lot.on_hand - lot.held
        return StockLevel(
            self.sku,
            self.name,
            self.aisle,
            self.unit,
            on_hand,
            reserved,
            self.min_level,
            self.price,
            self.unit_cost,
            expired=expired,
            details=self.details if described else None,
        )

    def product_row(self) -> ProductInsert:
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
            self.details_json,
            self.details_version,
        )

    def update_row(self) -> ProductUpdate:
        return (
            self.name,
            self.aisle,
            self.unit,
            self.min_level,
            self.price,
            self.unit_cost,
            self.priced_at,
            self.details_json,
            self.details_version,
            self.sku,
        )


@dataclass(slots=True)
class Hold:
    """What an open customer order holds: its lines and the lots they come from."""

    lines: Lines
    allocations: tuple[Allocation, ...]


def load_items(products: Iterable[ProductRow], lots: Iterable[LotRow]) -> dict[str, Item]:
    """Items from `StockTables.products` and `.lots` rows (plain tuples in their column
    order), read one at a time: no list of every row is alive beside the items. Values
    that repeat (aisles, units, dates, a lot's SKU) are held once, not once a row."""
    items: dict[str, Item] = {}
    once: dict[str, str] = {}
    for sku, name, aisle, unit, min_level, price, unit_cost, priced_at, text, version in products:
        items[sku] = Item(
            sku,
            name,
            once.setdefault(aisle, aisle),
            once.setdefault(unit, unit),
            min_level,
            price,
            unit_cost,
            priced_at,
            details_version=version,
            details_json=text or None,
        )
    days: dict[str | None, date | None] = {None: None, "": None}
    for lot_id, sku, expiry, mfd, unit_cost, on_hand, received_at in lots:
        item = items[sku]
        expiry_day = days[expiry] if expiry in days else days.setdefault(expiry, _date(expiry))
        mfd_day = days[mfd] if mfd in days else days.setdefault(mfd, _date(mfd))
        item.lots.append(
            Lot(lot_id, item.sku, expiry_day, mfd_day, unit_cost, on_hand, received_at)
        )
    for item in items.values():
        if len(item.lots) > 1:
            item.lots.sort(key=Lot.order)
    return items


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None

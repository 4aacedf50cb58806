"""The stock actor's memory, and what one batch changed of it.

The stock actor's parts (its previews, restocks and settlements in `stock.py`, the
orders in `ordering.py`, what it reports in `stock_views.py`, operators' actions and
alerts in `stock_keeping.py`, the chain's transfers and catalog in `stock_chain.py`)
share one book: the items with their lots, what open orders hold, the open alerts, and
this batch's marks. Every change goes through the book, which registers its undo on
the actor's unit of work and marks what `write_changes` writes once, at the batch's
end.

What an open order holds: a customer order (or a transfer out) holds its lines' stock
from its preview, its lines allocated to lots first-expired-first-out, all or none, and
the lots' `held` counts grow. The hold ends when the order settles or a processing
order is cancelled, or without its stock (`release`: cancelled, expired, failed). At
start the holds of the open orders are allocated again, not undoable.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from autogrocery.actors.chain_facts import StockFacts
from autogrocery.actors.stock_items import Allocation, Hold, Item, Lot
from autogrocery.actors.stock_shelf import Shelf
from autogrocery.domain.models import Lines, MovementType, now
from autogrocery.store.stock_tables import (
    INSERT_LOT,
    INSERT_MOVEMENT,
    INSERT_PRODUCT,
    UPDATE_LEVEL,
    UPDATE_LOT,
    UPDATE_PRODUCT,
)

if TYPE_CHECKING:
    from autogrocery.runtime.base import Host
    from autogrocery.runtime.context import Context
    from autogrocery.runtime.unit import UnitOfWork


class StockBook:
    def __init__(self, host: Host, ctx: Context) -> None:
        self.host = host
        self.ctx = ctx
        self.items: dict[str, Item] = {}
        self.shelf = Shelf()  # the items in aisle and SKU order, for pages
        self.held: dict[str, Hold] = {}  # orders and transfers out holding stock, by id
        self.alerted: dict[str, float] = {}  # sku -> when its low-stock alert was raised
        self.expiring: dict[str, float] = {}  # lot id -> when its expiry alert was raised
        self.facts = StockFacts() if ctx.chain else None  # what the head office hears
        self._today: date | None = None  # this batch's date
        self.touched: set[str] = set()  # levels changed in this batch: alerts, events
        self.dirty: set[str] = set()  # on_hand changed in this batch: written once
        self.changed: set[str] = set()  # name, min level or price changed: written once
        self.new: set[str] = set()  # products added in this batch: inserted once
        self.lots: dict[str, Lot] = {}  # lots changed in this batch: written once
        self.new_lots: dict[str, str | None] = {}  # lots created in this batch: their ref
        self.settled: set[str] = set()  # settled in this batch (not yet in the store)

    @property
    def unit(self) -> UnitOfWork:
        return self.host.unit

    def today(self) -> date:
        if self._today is None:
            self._today = self.ctx.today()
        return self._today

    # --- stock moves --------------------------------------------------------------------

    def move(
        self, lot: Lot, kind: MovementType, delta: int, ref: str | None, user: str | None
    ) -> None:
        """Change a lot's stock and write the movement that says so."""
        lot.on_hand += delta
        unit = self.unit

        def restore() -> None:
            lot.on_hand -= delta

        unit.undo(restore)
        self.lots[lot.lot_id] = lot
        self.dirty.add(lot.sku)
        self.touched.add(lot.sku)
        at = now()
        unit.write(INSERT_MOVEMENT, (lot.sku, kind.value, delta, ref, user, at, lot.lot_id))
        if self.facts is not None:
            self.facts.moved(unit, lot, kind, delta, ref, at)

    def new_lot(self, item: Item, lot: Lot, ref: str | None) -> None:
        item.add_lot(lot)
        self.new_lots[lot.lot_id] = ref
        self.lots[lot.lot_id] = lot

        def restore() -> None:
            item.lots.remove(lot)
            self.new_lots.pop(lot.lot_id, None)
            self.lots.pop(lot.lot_id, None)

        self.unit.undo(restore)

    def set_cost(self, lot: Lot, cost: int) -> None:
        before = lot.unit_cost
        lot.unit_cost = cost
        self.lots[lot.lot_id] = lot

        def restore() -> None:
            lot.unit_cost = before

        self.unit.undo(restore)

    def add_item(self, item: Item) -> None:
        """A product new in this batch (inserted once at its end)."""
        self.items[item.sku] = item
        self.unit.undo(lambda: self.shelf.unadd(self.items, item.sku))
        self.new.add(item.sku)
        self.touched.add(item.sku)

    def mark_changed(self, sku: str) -> None:
        """A product's name, min level, price or details changed (written once)."""
        self.changed.add(sku)
        self.touched.add(sku)

    def mark_settled(self, order_id: str) -> None:
        self.settled.add(order_id)
        self.unit.undo(lambda: self.settled.discard(order_id))

    # --- what open orders hold ----------------------------------------------------------

    def allocate(
        self, lines: Lines, today: date, *, expired_too: bool = False
    ) -> tuple[Allocation, ...] | None:
        wanted: dict[str, int] = {}  # a SKU may have two lines: its marked-down lot's own
        for line in lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        found: list[Allocation] = []
        for sku, quantity in wanted.items():
            lots = self.items[sku].allocate(quantity, today, expired_too=expired_too)
            if not lots:
                return None
            found.extend(lots)
        return tuple(found)

    def hold(
        self,
        order_id: str,
        lines: Lines,
        allocations: tuple[Allocation, ...],
        undoable: bool = True,
    ) -> None:
        self.held[order_id] = Hold(lines, allocations)
        if undoable:
            self.unit.undo(lambda: self.held.pop(order_id, None))
            self._take_hold(allocations, +1)
        else:
            for lot, quantity in allocations:
                lot.held += quantity

    def release(self, order_id: str) -> Hold | None:
        """The order's hold ends (the lots' `held` counts fall); None if it had none."""
        hold = self.held.pop(order_id, None)
        if hold is not None:
            self.unit.undo(lambda: self.held.__setitem__(order_id, hold))
            self._take_hold(hold.allocations, -1)
        return hold

    def _take_hold(self, allocations: tuple[Allocation, ...], sign: int) -> None:
        touched = self.touched
        for lot, quantity in allocations:
            lot.held += sign * quantity
            touched.add(lot.sku)

        def restore() -> None:
            for lot, quantity in allocations:
                lot.held -= sign * quantity

        self.unit.undo(restore)

    # --- the batch ----------------------------------------------------------------------

    def write_changes(self) -> None:
        """Each product's and lot's final state once: new ones inserted, changed ones
        updated."""
        items, new, write = self.items, self.new, self.unit.write
        for sku in new:
            if sku in items:
                write(INSERT_PRODUCT, items[sku].product_row())
        for sku in self.changed - new:
            write(UPDATE_PRODUCT, items[sku].update_row())
        for sku in self.dirty - new:
            write(UPDATE_LEVEL, (items[sku].on_hand, sku))
        for lot_id, lot in self.lots.items():
            if lot_id in self.new_lots:
                write(INSERT_LOT, lot.row(self.new_lots[lot_id]))
            else:
                write(UPDATE_LOT, (lot.on_hand, lot.unit_cost, lot_id))

    def clear(self) -> None:
        """The batch committed or rolled back: forget its marks."""
        if self.facts is not None:
            self.facts.clear()
        self._today = None
        self.touched.clear()
        self.dirty.clear()
        self.changed.clear()
        self.new.clear()
        self.lots = {}
        self.new_lots = {}
        self.settled.clear()

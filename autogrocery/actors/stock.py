"""The stock actor: levels, lots, prices, what open orders hold, the ledger and alerts.

It is the only writer of products, lots, movements, stock_settlements and the alerts
tables, so its memory is the truth about stock. What an open order holds is not
written here: ordering stores the order's lines in the same breath as it answers the
preview, and those lines are the durable reservation. At start, stock reads back the
lines of the customer orders still open and not settled (`StockTables.holds`) and
allocates them to lots again, oldest order first.

Stock changes on_hand only when an order settles (every robot task done): the order's
allocated lots give their stock (OUT), or a restock's lines arrive (IN: a dated line as
a new lot, an undated one into the product's undated lot), then the pricing rule
reprices each line's SKU; one settlement row guards that it happens once. What open
orders hold is in `stock_holds.py`; operators' actions, the expiry sweep and the alerts
in `stock_keeping.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from autogrocery.actors.chain_facts import StockFacts, receipt, shipment
from autogrocery.actors.stock_chain import CATALOG_VERSION, StockChain
from autogrocery.actors.stock_holds import StockHolds
from autogrocery.actors.stock_items import Hold, Item, Lot, load_items
from autogrocery.actors.stock_keeping import StockKeeping
from autogrocery.actors.stock_shelf import Shelf
from autogrocery.domain import events
from autogrocery.domain.errors import InsufficientStock, ValidationError
from autogrocery.domain.messages.lifecycle import Ping
from autogrocery.domain.messages.ordering import CloseCancelled, CompleteOrder, CreateOrder
from autogrocery.domain.messages.stock import (
    CancelPicked,
    CreateRestock,
    PreviewOrder,
    SettleOrder,
)
from autogrocery.domain.models import (
    LineRequest,
    Lines,
    MovementType,
    OrderKind,
    OrderLine,
    new_id,
    now,
)
from autogrocery.domain.pricing import PricingRule
from autogrocery.runtime.base import Actor, handles
from autogrocery.runtime.context import Context
from autogrocery.store.db import undated_lot
from autogrocery.store.stock_tables import (
    INSERT_LOT,
    INSERT_MOVEMENT,
    INSERT_PRODUCT,
    INSERT_SETTLEMENT,
    UPDATE_LEVEL,
    UPDATE_LOT,
    UPDATE_PRODUCT,
    StockTables,
)

log = logging.getLogger(__name__)


class StockActor(StockHolds, StockKeeping, StockChain, Actor):
    name = "stock"

    def __init__(self, ctx: Context, rule: PricingRule, expiry_alert_days: int = 2) -> None:
        super().__init__()
        self.ctx = ctx
        self.rule = rule
        self.alert_days = expiry_alert_days
        self.on_death = ctx.on_death
        self.peers = ctx.peers
        self.schedule = ctx.scheduler.call_later
        self.items: dict[str, Item] = {}
        self.shelf = Shelf()  # the items in aisle and SKU order, for pages
        self.held: dict[str, Hold] = {}  # customer orders holding stock, by order id
        self.alerted: dict[str, float] = {}  # sku -> when its low-stock alert was raised
        self.expiring: dict[str, float] = {}  # lot id -> when its expiry alert was raised
        self._today: date | None = None  # this batch's date
        self._touched: set[str] = set()  # levels changed in this batch: alerts, events
        self._dirty: set[str] = set()  # on_hand changed in this batch: written once
        self._changed: set[str] = set()  # name, min level or price changed: written once
        self._new: set[str] = set()  # products added in this batch: inserted once
        self._lots: dict[str, Lot] = {}  # lots changed in this batch: written once
        self._new_lots: dict[str, str | None] = {}  # lots created in this batch: their ref
        self._settled: set[str] = set()  # settled in this batch (not yet in the store)
        self.facts = StockFacts() if ctx.chain else None  # what the head office hears

    def on_start(self) -> None:
        self.db = self.writer = self.ctx.connect()
        self.tables = StockTables(self.db)
        self.items = load_items(self.tables.products(), self.tables.lots())
        self.alerted = self.tables.alerts()
        self.expiring = self.tables.expiry_alerts()
        self.catalog_version = int(self.tables.meta(CATALOG_VERSION) or 0)
        today = self.ctx.today()
        for order_id, lines in self.tables.holds().items():
            allocations = self._allocate(lines, today, expired_too=True)
            if allocations is None:  # cannot happen with a consistent store; say so
                log.error("order %s holds more than stock has; not held", order_id)
                continue
            self._hold(order_id, lines, allocations, undoable=False)

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    def today(self) -> date:
        if self._today is None:
            self._today = self.ctx.today()
        return self._today

    # --- orders and restocks ----------------------------------------------------------

    @handles(PreviewOrder)
    def preview(self, msg: PreviewOrder) -> None:
        """Reserve every line or none (FEFO lots), lock prices, hand the order on."""
        self._known(msg.lines)
        unpriced = [ln.sku for ln in msg.lines if self.items[ln.sku].price <= 0]
        if unpriced:
            raise ValidationError(
                f"{', '.join(unpriced)} has no price yet and is not for sale",
                [{"field": "items", "message": f"{sku} is not for sale"} for sku in unpriced],
            )
        lines = tuple(
            OrderLine(ln.sku, item.name, item.aisle, ln.quantity, item.price)
            for ln in sorted(msg.lines, key=lambda ln: ln.sku)
            for item in (self.items[ln.sku],)
        )
        allocations = self._allocate(lines, self.today())
        if allocations is None:
            today = self.today()
            raise InsufficientStock(
                [
                    {"sku": ln.sku, "requested": ln.quantity, "available": available}
                    for ln in msg.lines
                    if (available := self.items[ln.sku].available(today)) < ln.quantity
                ]
            )
        order_id = new_id("ord")
        self._hold(order_id, lines, allocations)
        self.forward(
            "ordering", CreateOrder(order_id, OrderKind.CUSTOMER, msg.owner, lines, msg.request_key)
        )

    @handles(CreateRestock)
    def restock(self, msg: CreateRestock) -> None:
        """Name a truck's lines (unit cost as the line's price) for ordering to store."""
        self._known(msg.lines)
        lines = tuple(
            OrderLine(
                ln.sku,
                item.name,
                item.aisle,
                ln.quantity,
                ln.unit_cost or 0,
                ln.expiry_date,
                ln.mfd_date,
            )
            for ln in sorted(msg.lines, key=_line_order)
            for item in (self.items[ln.sku],)
        )
        self.forward(
            "ordering",
            CreateOrder(new_id("rst"), OrderKind.RESTOCK, msg.owner, lines, msg.request_key),
        )

    @handles(CancelPicked)
    def cancel_picked(self, msg: CancelPicked) -> None:
        """A processing order was cancelled: its hold is freed, and what robots had picked
        goes back into the lots it came from, the ledger saying both (OUT, then RETURN).
        Once: the settlement row marks stock done with the order. Ordering answers."""
        order_id = msg.order_id
        if order_id not in self._settled and not self.tables.settled(order_id):
            hold = self.held.pop(order_id, None)
            if hold is not None:
                self.unit.undo(lambda: self.held.__setitem__(order_id, hold))
                self._take_hold(hold.allocations, -1)
                picked = set(msg.picked)
                for lot, quantity in hold.allocations:
                    if lot.sku in picked:
                        self.move(lot, MovementType.OUT, -quantity, order_id, None)
                        self.move(lot, MovementType.RETURN, quantity, order_id, None)
            self._settled.add(order_id)
            self.unit.undo(lambda: self._settled.discard(order_id))
            self.unit.write(INSERT_SETTLEMENT, (order_id, OrderKind.CUSTOMER.value, now()))
        self.forward("ordering", CloseCancelled(order_id))

    @handles(SettleOrder)
    def settle(self, msg: SettleOrder) -> None:
        """Every robot task is done: take what the order or transfer out holds, or shelve
        what the restock or transfer in brings."""
        order_id = msg.order_id
        if msg.kind in (OrderKind.CUSTOMER, OrderKind.TRANSFER_OUT):
            hold = self.held.get(order_id)
            if hold is None:
                if order_id in self._settled or self.tables.settled(order_id):
                    self.unit.tell("ordering", CompleteOrder(order_id))
                else:
                    log.warning("order %s holds no stock; not settled", order_id)
                return
            del self.held[order_id]
            self.unit.undo(lambda: self.held.__setitem__(order_id, hold))
            self._take_hold(hold.allocations, -1)
            out = MovementType.OUT if msg.kind == OrderKind.CUSTOMER else MovementType.TRANSFER_OUT
            ref = msg.ref or order_id
            for lot, quantity in hold.allocations:
                self.move(lot, out, -quantity, ref, None)
            if msg.kind == OrderKind.TRANSFER_OUT and self.facts is not None:
                self.facts.shipped(self.unit, shipment(ref, msg.peer, hold.allocations))
        else:
            if order_id in self._settled or self.tables.settled(order_id):
                self.unit.tell("ordering", CompleteOrder(order_id))
                return
            if msg.kind == OrderKind.RESTOCK:
                for line in msg.lines:
                    self._shelve(order_id, line, MovementType.IN, order_id)
                self._reprice(msg.lines)
            else:  # a transfer in keeps the shipped lots' dates and costs; no reprice
                ref = msg.ref or order_id
                for line in msg.lines:
                    self._shelve(order_id, line, MovementType.TRANSFER_IN, ref)
                if self.facts is not None:
                    self.facts.received(self.unit, receipt(ref, msg.peer, msg.lines))
        self._settled.add(order_id)
        self.unit.undo(lambda: self._settled.discard(order_id))
        self.unit.write(INSERT_SETTLEMENT, (order_id, msg.kind.value, now()))
        self.unit.tell("ordering", CompleteOrder(order_id))

    def _shelve(
        self, restock_id: str, line: OrderLine, kind: MovementType, ref: str | None
    ) -> None:
        """A delivered line into stock: a lot of its own when dated, else the undated lot."""
        item = self.items[line.sku]
        lot = item.undated() if line.expiry_date is None else None
        if lot is None:
            lot_id = (
                undated_lot(line.sku)
                if line.expiry_date is None
                else f"{restock_id}/{line.sku}/{line.expiry_date.isoformat()}"
            )
            lot = Lot(lot_id, line.sku, line.expiry_date, line.mfd_date, line.unit_price, 0, now())
            self.new_lot(item, lot, restock_id)
        elif lot.on_hand + line.quantity > 0:  # the undated lot: the average cost
            cost = (lot.unit_cost * lot.on_hand + line.unit_price * line.quantity) // (
                lot.on_hand + line.quantity
            )
            self._set_cost(lot, cost)
        self.move(lot, kind, line.quantity, ref, None)

    # --- the batch ----------------------------------------------------------------------

    def before_commit(self) -> None:
        """Each product's and lot's final state once: new ones inserted, changed ones
        updated; then alerts for what changed."""
        items, new, write = self.items, self._new, self.unit.write
        for sku in new:
            if sku in items:
                write(INSERT_PRODUCT, items[sku].product_row())
        for sku in self._changed - new:
            write(UPDATE_PRODUCT, items[sku].update_row())
        for sku in self._dirty - new:
            write(UPDATE_LEVEL, (items[sku].on_hand, sku))
        for lot_id, lot in self._lots.items():
            if lot_id in self._new_lots:
                write(INSERT_LOT, lot.row(self._new_lots[lot_id]))
            else:
                write(UPDATE_LOT, (lot.on_hand, lot.unit_cost, lot_id))
        today = self.today()
        publish = self.ctx.events.publish
        for sku in self._touched:
            item = items.get(sku)
            if item is None:
                continue
            level = item.level(today)  # once: the alert's test and the event's view
            if level.low and sku not in self.alerted:
                self._flip_alert(item, raised_at=now())
            elif not level.low and sku in self.alerted:
                self._flip_alert(item, raised_at=None)
            self.unit.then(lambda level=level: publish(events.STOCK_CHANGED, level))  # type: ignore[misc]
        self.check_expiry(self._touched)
        if self.facts is not None:
            self.facts.stage(
                self.unit, [items[sku] for sku in self._touched if sku in items], items
            )

    def after_batch(self) -> None:
        if self.facts is not None:
            self.facts.clear()
        self._today = None
        self._touched.clear()
        self._dirty.clear()
        self._changed.clear()
        self._new.clear()
        self._lots = {}
        self._new_lots = {}
        self._settled.clear()

    # --- stock moves (shared with stock_keeping) ----------------------------------------

    def move(
        self, lot: Lot, kind: MovementType, delta: int, ref: str | None, user: str | None
    ) -> None:
        """Change a lot's stock and write the movement that says so."""
        lot.on_hand += delta

        def restore() -> None:
            lot.on_hand -= delta

        self.unit.undo(restore)
        self._lots[lot.lot_id] = lot
        self._dirty.add(lot.sku)
        self._touched.add(lot.sku)
        at = now()
        self.unit.write(INSERT_MOVEMENT, (lot.sku, kind.value, delta, ref, user, at, lot.lot_id))
        if self.facts is not None:
            self.facts.moved(self.unit, lot, kind, delta, ref, at)

    def new_lot(self, item: Item, lot: Lot, ref: str | None) -> None:
        item.add_lot(lot)
        self._new_lots[lot.lot_id] = ref
        self._lots[lot.lot_id] = lot

        def restore() -> None:
            item.lots.remove(lot)
            self._new_lots.pop(lot.lot_id, None)
            self._lots.pop(lot.lot_id, None)

        self.unit.undo(restore)

    def _set_cost(self, lot: Lot, cost: int) -> None:
        before = lot.unit_cost
        lot.unit_cost = cost
        self._lots[lot.lot_id] = lot

        def restore() -> None:
            lot.unit_cost = before

        self.unit.undo(restore)

    # --- helpers ------------------------------------------------------------------------

    def _reprice(self, lines: Lines) -> None:
        at = now()
        today = self.today()
        for line in lines:
            item = self.items[line.sku]
            before = (item.price, item.unit_cost, item.priced_at)
            item.unit_cost = line.unit_price
            item.price = self.rule.price(line.unit_price, item.available(today), item.min_level)
            item.priced_at = at
            self._changed.add(item.sku)

            def restore(item: Item = item, before: tuple[int, int, float | None] = before) -> None:
                item.price, item.unit_cost, item.priced_at = before

            self.unit.undo(restore)
        self.unit.then(
            lambda: log.info(
                "restock repriced %s",
                ", ".join(f"{ln.sku}={self.items[ln.sku].price / 100:.2f}" for ln in lines),
            )
        )

    def _known(self, lines: Iterable[LineRequest]) -> None:
        errors = [
            {"field": f"items[{i}].sku", "message": f"unknown SKU {ln.sku!r}"}
            for i, ln in enumerate(lines)
            if ln.sku not in self.items
        ]
        if errors:
            raise ValidationError(errors[0]["message"], errors)


def _line_order(line: LineRequest) -> tuple[str, str]:
    return (line.sku, line.expiry_date.isoformat() if line.expiry_date else "")

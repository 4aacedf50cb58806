"""The stock actor: levels, lots, prices, the orders and what they hold, the ledger
and alerts.

It is the only writer of products, lots, movements, orders, stock_settlements and the
alerts tables, so its memory is the truth about stock and open orders. A preview's
hold and its order are made in one batch and committed together: the order's stored
lines are the durable reservation, and the hold in memory is undone with the batch if
the commit fails. At start, stock reads back the lines of the customer orders still
open and not settled (`StockTables.holds`) and allocates them to lots again, oldest
order first.

Stock changes on_hand only when an order settles (every robot task done): the order's
allocated lots give their stock (OUT), or a restock's lines arrive (IN: a dated line as
a new lot, an undated one into the product's undated lot), then the pricing rule
reprices each line's SKU; one settlement row guards that it happens once.

The actor is made of parts that share its memory, the book (`stock_book.py`: items,
lots, holds, alerts and this batch's marks): this module's previews, restocks and
settlements; the orders themselves (`ordering.py`: confirm, cancel, expire, complete,
fail, bill); what it reports (`stock_views.py`); operators' actions, expiry and the
alerts (`stock_keeping.py`); the chain's transfers and catalog (`stock_chain.py`); lots'
markdowns and the lots at risk of expiring unsold (`stock_markdowns.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import ClassVar

from autogrocery.actors.chain_facts import receipt, shipment
from autogrocery.actors.ordering import OrderPolicy, Orders
from autogrocery.actors.stock_book import StockBook
from autogrocery.actors.stock_chain import ChainStock
from autogrocery.actors.stock_items import Item, Lot, load_items
from autogrocery.actors.stock_keeping import Housekeeping
from autogrocery.actors.stock_markdowns import Markdowns
from autogrocery.actors.stock_views import StockViews
from autogrocery.domain.errors import InsufficientStock, ValidationError
from autogrocery.domain.messages.lifecycle import Ping
from autogrocery.domain.messages.ordering import CreateOrder
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
from autogrocery.domain.records import OrderRecord, RequestKey
from autogrocery.runtime.base import Actor, handles
from autogrocery.runtime.context import Context
from autogrocery.store.db import undated_lot
from autogrocery.store.stock_tables import INSERT_SETTLEMENT, StockTables
from autogrocery.transports.base import MetricsChannel, RobotHub

log = logging.getLogger(__name__)


class StockActor(Actor):
    name = "stock"
    parts: ClassVar[dict[str, type]] = {
        "orders": Orders,
        "views": StockViews,
        "keeping": Housekeeping,
        "chain": ChainStock,
        "markdowns": Markdowns,
    }

    def __init__(
        self,
        ctx: Context,
        rule: PricingRule,
        policy: OrderPolicy,
        metrics: MetricsChannel,
        hub: RobotHub,
        expiry_alert_days: int = 2,
        large_movement_units: int = 100,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.rule = rule
        self.on_death = ctx.on_death
        self.peers = ctx.peers
        self.schedule = ctx.scheduler.call_later
        self.book = StockBook(self, ctx)
        self.orders = Orders(self.book, self, ctx, policy, metrics, hub)
        self.views = StockViews(self.book)
        self.keeping = Housekeeping(self.book, expiry_alert_days, large_movement_units)
        self.chain = ChainStock(self.book, self.orders)
        self.markdowns = Markdowns(self.book, ctx)

    def on_start(self) -> None:
        self.db = self.writer = self.ctx.connect()
        self.tables = StockTables(self.db)
        book = self.book
        book.items = load_items(self.tables.products(), self.tables.lots())
        book.alerted = self.tables.alerts()
        book.expiring = self.tables.expiry_alerts()
        self.chain.load(self.tables)
        self.orders.load(self.db)
        self.markdowns.load(self.db)
        today = self.ctx.today()
        for order_id, lines in self.tables.holds().items():
            allocations = book.allocate(lines, today, expired_too=True)
            if allocations is None:  # cannot happen with a consistent store; say so
                log.error("order %s holds more than stock has; not held", order_id)
                continue
            book.hold(order_id, lines, allocations, undoable=False)

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    # --- orders and restocks ----------------------------------------------------------

    @handles(PreviewOrder)
    def preview(self, msg: PreviewOrder) -> OrderRecord:
        """Reserve every line or none (FEFO lots), lock prices, store the order (PREVIEWED).
        A retry with the same key gets the order its first try made."""
        book, items = self.book, self.book.items
        key = msg.request
        if key is not None:
            existing = self.orders.by_key(msg.owner, key.key)
            if existing is not None:
                return existing
        self._known(msg.lines)
        unpriced = [ln.sku for ln in msg.lines if items[ln.sku].price <= 0]
        if unpriced:
            raise ValidationError(
                f"{', '.join(unpriced)} has no price yet and is not for sale",
                [{"field": "items", "message": f"{sku} is not for sale"} for sku in unpriced],
            )
        lines = tuple(
            OrderLine(ln.sku, item.name, item.aisle, ln.quantity, item.price)
            for ln in sorted(msg.lines, key=lambda ln: ln.sku)
            for item in (items[ln.sku],)
        )
        today = book.today()
        allocations = book.allocate(lines, today)
        if allocations is None:
            raise InsufficientStock(
                [
                    {"sku": ln.sku, "requested": ln.quantity, "available": available}
                    for ln in msg.lines
                    if (available := items[ln.sku].available(today)) < ln.quantity
                ]
            )
        order_id = new_id("ord")
        lines = self.markdowns.priced(lines, allocations)
        book.hold(order_id, lines, allocations)
        ref, digest = _keyed(key)
        return self.orders.create(
            CreateOrder(order_id, OrderKind.CUSTOMER, msg.owner, lines, ref, request_hash=digest)
        )

    @handles(CreateRestock)
    def restock(self, msg: CreateRestock) -> OrderRecord:
        """Name a truck's lines (unit cost as the line's price) and store the restock."""
        self._known(msg.lines)
        items = self.book.items
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
            for item in (items[ln.sku],)
        )
        ref, digest = _keyed(msg.request)
        return self.orders.create(
            CreateOrder(
                new_id("rst"), OrderKind.RESTOCK, msg.owner, lines, ref, request_hash=digest
            )
        )

    @handles(CancelPicked)
    def cancel_picked(self, msg: CancelPicked) -> OrderRecord:
        """A processing order was cancelled: its hold is freed, and what robots had picked
        goes back into the lots it came from, the ledger saying both (OUT, then RETURN),
        and the order is CANCELLED. Once: the settlement row marks stock done with it."""
        book, order_id = self.book, msg.order_id
        if not self._settled(order_id):
            hold = book.release(order_id)
            if hold is not None:
                picked = set(msg.picked)
                for lot, quantity in hold.allocations:
                    if lot.sku in picked:
                        book.move(lot, MovementType.OUT, -quantity, order_id, None)
                        book.move(lot, MovementType.RETURN, quantity, order_id, None)
            book.mark_settled(order_id)
            self.unit.write(INSERT_SETTLEMENT, (order_id, OrderKind.CUSTOMER.value, now()))
        return self.orders.close_cancelled(order_id)

    @handles(SettleOrder)
    def settle(self, msg: SettleOrder) -> None:
        """Every robot task is done: take what the order or transfer out holds, or shelve
        what the restock or transfer in brings."""
        book, order_id = self.book, msg.order_id
        if msg.kind in (OrderKind.CUSTOMER, OrderKind.TRANSFER_OUT):
            hold = book.release(order_id)
            if hold is None:
                if self._settled(order_id):
                    self.orders.complete(order_id)
                else:
                    log.warning("order %s holds no stock; not settled", order_id)
                return
            out = MovementType.OUT if msg.kind == OrderKind.CUSTOMER else MovementType.TRANSFER_OUT
            ref = msg.ref or order_id
            for lot, quantity in hold.allocations:
                book.move(lot, out, -quantity, ref, None)
            if msg.kind == OrderKind.CUSTOMER:
                self.markdowns.sold(self.orders.open.get(order_id), hold.allocations)
            if msg.kind == OrderKind.TRANSFER_OUT and book.facts is not None:
                book.facts.shipped(self.unit, shipment(ref, msg.peer, hold.allocations))
        else:
            if self._settled(order_id):
                self.orders.complete(order_id)
                return
            if msg.kind == OrderKind.RESTOCK:
                for line in msg.lines:
                    self._shelve(order_id, line, MovementType.IN, order_id)
                self._reprice(msg.lines)
            else:  # a transfer in keeps the shipped lots' dates and costs; no reprice
                ref = msg.ref or order_id
                for line in msg.lines:
                    self._shelve(order_id, line, MovementType.TRANSFER_IN, ref)
                if book.facts is not None:
                    book.facts.received(self.unit, receipt(ref, msg.peer, msg.lines))
        book.mark_settled(order_id)
        self.unit.write(INSERT_SETTLEMENT, (order_id, msg.kind.value, now()))
        self.orders.complete(order_id)

    def _settled(self, order_id: str) -> bool:
        return order_id in self.book.settled or self.tables.settled(order_id)

    def _shelve(
        self, restock_id: str, line: OrderLine, kind: MovementType, ref: str | None
    ) -> None:
        """A delivered line into stock: a lot of its own when dated, else the undated lot."""
        book = self.book
        item = book.items[line.sku]
        lot = item.undated() if line.expiry_date is None else None
        if lot is None:
            lot_id = (
                undated_lot(line.sku)
                if line.expiry_date is None
                else f"{restock_id}/{line.sku}/{line.expiry_date.isoformat()}"
            )
            lot = Lot(lot_id, line.sku, line.expiry_date, line.mfd_date, line.unit_price, 0, now())
            book.new_lot(item, lot, restock_id)
        elif lot.on_hand + line.quantity > 0:  # the undated lot: the average cost
            cost = (lot.unit_cost * lot.on_hand + line.unit_price * line.quantity) // (
                lot.on_hand + line.quantity
            )
            book.set_cost(lot, cost)
        book.move(lot, kind, line.quantity, ref, None)

    def _reprice(self, lines: Lines) -> None:
        book = self.book
        at = now()
        today = book.today()
        for line in lines:
            item = book.items[line.sku]
            before = (item.price, item.unit_cost, item.priced_at)
            item.unit_cost = line.unit_price
            item.price = self.rule.price(line.unit_price, item.available(today), item.min_level)
            item.priced_at = at
            book.changed.add(item.sku)

            def restore(item: Item = item, before: tuple[int, int, float | None] = before) -> None:
                item.price, item.unit_cost, item.priced_at = before

            self.unit.undo(restore)
        items = book.items
        self.unit.then(
            lambda: log.info(
                "restock repriced %s",
                ", ".join(f"{ln.sku}={items[ln.sku].price / 100:.2f}" for ln in lines),
            )
        )

    def _known(self, lines: Iterable[LineRequest]) -> None:
        errors = [
            {"field": f"items[{i}].sku", "message": f"unknown SKU {ln.sku!r}"}
            for i, ln in enumerate(lines)
            if ln.sku not in self.book.items
        ]
        if errors:
            raise ValidationError(errors[0]["message"], errors)

    # --- the batch ----------------------------------------------------------------------

    def before_commit(self) -> None:
        """Each product's, lot's and order's final state once, then the alerts and events
        for what changed, and what the head office hears of it."""
        book = self.book
        book.write_changes()
        self.keeping.alert()
        if book.facts is not None:
            items = book.items
            book.facts.stage(self.unit, [items[sku] for sku in book.touched if sku in items], items)
        self.orders.before_commit()  # after stock's facts: the head office hears them first

    def after_batch(self) -> None:
        self.book.clear()
        self.orders.after_batch()


def _keyed(key: RequestKey | None) -> tuple[str | None, str | None]:
    """A client's Idempotency-Key and its request's digest, as an order keeps them."""
    return (None, None) if key is None else (key.key, key.digest)


def _line_order(line: LineRequest) -> tuple[str, str]:
    return (line.sku, line.expiry_date.isoformat() if line.expiry_date else "")

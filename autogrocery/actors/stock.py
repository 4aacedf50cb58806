"""The stock actor: levels, prices, what open orders hold, the ledger and alerts.

It is the only writer of products, movements, stock_settlements and alerts, so its
memory is the truth about stock. What an open order holds is not written here:
ordering stores the order's lines in the same breath as it answers the preview, and
those lines are the durable reservation. At start, stock reads back the lines of the
customer orders still open and not settled (`StockTables.holds`).

Stock changes on_hand only when an order settles (every robot task done): the order's
lines leave stock (OUT) or a restock's arrive (IN, then the pricing rule reprices each
line's SKU), one settlement row guarding that it happens once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from autogrocery.actors.base import Actor, handles
from autogrocery.actors.context import Context
from autogrocery.actors.stock_items import Item, load_items
from autogrocery.domain import events
from autogrocery.domain.errors import Conflict, InsufficientStock, NotFound, ValidationError
from autogrocery.domain.messages import (
    AddProduct,
    AdjustStock,
    CompleteOrder,
    CreateOrder,
    CreateRestock,
    OpenAlerts,
    Ping,
    PreviewOrder,
    ReleaseOrder,
    SettleOrder,
    StockLevels,
    UpdateProduct,
)
from autogrocery.domain.models import (
    OPERATOR_REASONS,
    LineRequest,
    Lines,
    MovementType,
    OrderKind,
    OrderLine,
    adjustment_problem,
    new_id,
    now,
)
from autogrocery.domain.pricing import PricingRule
from autogrocery.domain.records import Alert, StockLevel
from autogrocery.domain.views import alert_view
from autogrocery.store.stock_tables import (
    CLEAR_ALERT,
    INSERT_MOVEMENT,
    INSERT_PRODUCT,
    INSERT_SETTLEMENT,
    RAISE_ALERT,
    UPDATE_LEVEL,
    UPDATE_PRODUCT,
    StockTables,
)

log = logging.getLogger(__name__)


class StockActor(Actor):
    name = "stock"

    def __init__(self, ctx: Context, rule: PricingRule) -> None:
        super().__init__()
        self.ctx = ctx
        self.rule = rule
        self.on_death = ctx.on_death
        self.peers = ctx.peers
        self.schedule = ctx.scheduler.call_later
        self.items: dict[str, Item] = {}
        self.held: dict[str, Lines] = {}  # customer orders holding stock, by order id
        self.alerted: dict[str, float] = {}  # sku -> when its low-stock alert was raised
        self._touched: set[str] = set()  # levels changed in this batch: alerts, events
        self._dirty: set[str] = set()  # on_hand changed in this batch: written once
        self._changed: set[str] = set()  # name, min level or price changed: written once
        self._new: set[str] = set()  # products added in this batch: inserted once
        self._settled: set[str] = set()  # settled in this batch (not yet in the store)

    def on_start(self) -> None:
        self.db = self.writer = self.ctx.connect()
        self.tables = StockTables(self.db)
        self.items = load_items(self.tables.products())
        self.alerted = self.tables.alerts()
        self.held = self.tables.holds()
        for lines in self.held.values():
            for line in lines:
                self.items[line.sku].reserved += line.quantity

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    # --- orders and restocks ----------------------------------------------------------

    @handles(PreviewOrder)
    def preview(self, msg: PreviewOrder) -> None:
        """Reserve every line or none, lock prices, and hand the order to ordering."""
        self._known(msg.lines)
        unpriced = [ln.sku for ln in msg.lines if self.items[ln.sku].price <= 0]
        if unpriced:
            raise ValidationError(
                f"{', '.join(unpriced)} has no price yet and is not for sale",
                [{"field": "items", "message": f"{sku} is not for sale"} for sku in unpriced],
            )
        shortages = [
            {"sku": ln.sku, "requested": ln.quantity, "available": self.items[ln.sku].available}
            for ln in msg.lines
            if self.items[ln.sku].available < ln.quantity
        ]
        if shortages:
            raise InsufficientStock(shortages)
        order_id = new_id("ord")
        lines = tuple(
            OrderLine(ln.sku, item.name, item.aisle, ln.quantity, item.price)
            for ln in sorted(msg.lines, key=lambda ln: ln.sku)
            for item in (self.items[ln.sku],)
        )
        self._hold(order_id, lines)
        self.forward(
            "ordering", CreateOrder(order_id, OrderKind.CUSTOMER, msg.owner, lines, msg.request_key)
        )

    @handles(CreateRestock)
    def restock(self, msg: CreateRestock) -> None:
        """Name a truck's lines (unit cost as the line's price) for ordering to store."""
        self._known(msg.lines)
        lines = tuple(
            OrderLine(ln.sku, item.name, item.aisle, ln.quantity, ln.unit_cost or 0)
            for ln in sorted(msg.lines, key=lambda ln: ln.sku)
            for item in (self.items[ln.sku],)
        )
        self.forward(
            "ordering",
            CreateOrder(new_id("rst"), OrderKind.RESTOCK, msg.owner, lines, msg.request_key),
        )

    @handles(ReleaseOrder)
    def release(self, msg: ReleaseOrder) -> object:
        """The order ended without its stock (cancelled, expired, failed); idempotent."""
        order_id = msg.order_id
        lines = self.held.pop(order_id, None)
        if lines is not None:
            self.unit.undo(lambda: self.held.__setitem__(order_id, lines))
            self._reserve(lines, -1)
        return msg.answer

    @handles(SettleOrder)
    def settle(self, msg: SettleOrder) -> None:
        """Every robot task is done: take the order's stock, or shelve the restock's."""
        order_id = msg.order_id
        if msg.kind == OrderKind.CUSTOMER:
            lines = self.held.get(order_id)
            if lines is None:
                if order_id in self._settled or self.tables.settled(order_id):
                    self.unit.tell("ordering", CompleteOrder(order_id))
                else:
                    log.warning("order %s holds no stock; not settled", order_id)
                return
            del self.held[order_id]
            self.unit.undo(lambda: self.held.__setitem__(order_id, lines))
            self._reserve(lines, -1)
            self._move(lines, MovementType.OUT, -1, order_id)
        else:
            if order_id in self._settled or self.tables.settled(order_id):
                self.unit.tell("ordering", CompleteOrder(order_id))
                return
            self._move(msg.lines, MovementType.IN, +1, order_id)
            self._reprice(msg.lines)
        self._settled.add(order_id)
        self.unit.undo(lambda: self._settled.discard(order_id))
        self.unit.write(INSERT_SETTLEMENT, (order_id, msg.kind.value, now()))
        self.unit.tell("ordering", CompleteOrder(order_id))

    # --- operators --------------------------------------------------------------------

    @handles(StockLevels)
    def levels(self, _: StockLevels) -> list[StockLevel]:
        return [item.level() for item in sorted(self.items.values(), key=_by_aisle)]

    @handles(OpenAlerts)
    def open_alerts(self, _: OpenAlerts) -> list[Alert]:
        return [
            Alert(self.items[sku].level(), raised_at)
            for sku, raised_at in sorted(self.alerted.items(), key=lambda kv: kv[1])
        ]

    @handles(AdjustStock)
    def adjust(self, msg: AdjustStock) -> StockLevel:
        item = self._item(msg.sku)
        if problem := adjustment_problem(msg.reason, msg.delta):
            field = "delta" if msg.reason in OPERATOR_REASONS else "reason"
            raise ValidationError(problem, [{"field": field, "message": problem}])
        if item.on_hand + msg.delta < item.reserved:
            raise Conflict(
                f"{msg.sku}: on hand {item.on_hand} {msg.delta:+d} would fall below the "
                f"{item.reserved} reserved"
            )
        self._change_on_hand(item, msg.delta)
        self.unit.write(
            INSERT_MOVEMENT, (msg.sku, msg.reason, msg.delta, msg.note, msg.user, now())
        )
        return item.level()

    @handles(AddProduct)
    def add_product(self, msg: AddProduct) -> StockLevel:
        if msg.sku in self.items:
            raise Conflict(f"product {msg.sku} already exists")
        aisles = {item.aisle for item in self.items.values()}
        if msg.aisle not in aisles:
            raise ValidationError(
                f"unknown aisle {msg.aisle!r}; robots serve {', '.join(sorted(aisles))}",
                [{"field": "aisle", "message": "no robots serve this aisle"}],
            )
        at = now()
        item = Item(msg.sku, msg.name, msg.aisle, msg.unit, msg.on_hand, 0, msg.min_level)
        item.price, item.unit_cost, item.priced_at = msg.price, msg.unit_cost, at
        self.items[msg.sku] = item
        self.unit.undo(lambda: self.items.pop(msg.sku, None))
        self._new.add(msg.sku)
        if msg.on_hand:
            self.unit.write(
                INSERT_MOVEMENT,
                (msg.sku, MovementType.COUNT.value, msg.on_hand, "new-product", msg.user, at),
            )
        self._touched.add(msg.sku)
        return item.level()

    @handles(UpdateProduct)
    def update_product(self, msg: UpdateProduct) -> StockLevel:
        item = self._item(msg.sku)
        before = (item.name, item.min_level, item.price, item.priced_at)

        def restore() -> None:
            item.name, item.min_level, item.price, item.priced_at = before

        self.unit.undo(restore)
        if msg.name is not None:
            item.name = msg.name
        if msg.min_level is not None:
            item.min_level = msg.min_level
        if msg.price is not None:
            item.price, item.priced_at = msg.price, now()
        self._changed.add(msg.sku)
        self._touched.add(msg.sku)
        return item.level()

    # --- the batch ----------------------------------------------------------------------

    def before_commit(self) -> None:
        """Each product's final state once: new ones inserted, changed ones updated."""
        items, new, write = self.items, self._new, self.unit.write
        for sku in new:
            if sku in items:
                write(INSERT_PRODUCT, items[sku].product_row())
        for sku in self._changed - new:
            write(UPDATE_PRODUCT, items[sku].update_row())
        for sku in self._dirty - new:
            write(UPDATE_LEVEL, (items[sku].on_hand, sku))
        publish = self.ctx.events.publish
        for sku in self._touched:
            item = self.items.get(sku)
            if item is None:
                continue
            if item.low and sku not in self.alerted:
                self._flip_alert(sku, raised_at=now())
            elif not item.low and sku in self.alerted:
                self._flip_alert(sku, raised_at=None)
            self.unit.then(lambda item=item: publish(events.STOCK_CHANGED, item.view))  # type: ignore[misc]

    def after_batch(self) -> None:
        self._touched.clear()
        self._dirty.clear()
        self._changed.clear()
        self._new.clear()
        self._settled.clear()

    def _flip_alert(self, sku: str, raised_at: float | None) -> None:
        previous = self.alerted.get(sku)
        item = self.items[sku]
        if raised_at is not None:
            self.alerted[sku] = raised_at
            self.unit.write(RAISE_ALERT, (sku, item.available, item.min_level, raised_at))
        else:
            del self.alerted[sku]
            self.unit.write(CLEAR_ALERT, (sku,))

        def restore() -> None:
            if previous is None:
                self.alerted.pop(sku, None)
            else:
                self.alerted[sku] = previous

        self.unit.undo(restore)
        kind = events.ALERT_RAISED if raised_at is not None else events.ALERT_CLEARED
        alert = Alert(item.level(), raised_at or previous or 0.0)
        self.unit.then(lambda: self.ctx.events.publish(kind, alert_view(alert)))

    # --- helpers ------------------------------------------------------------------------

    def _hold(self, order_id: str, lines: Lines) -> None:
        self.held[order_id] = lines
        self.unit.undo(lambda: self.held.pop(order_id, None))
        self._reserve(lines, +1)

    def _reserve(self, lines: Lines, sign: int) -> None:
        items, touched = self.items, self._touched
        for line in lines:
            items[line.sku].reserved += sign * line.quantity
            touched.add(line.sku)

        def restore() -> None:
            for line in lines:
                items[line.sku].reserved -= sign * line.quantity

        self.unit.undo(restore)

    def _move(self, lines: Lines, kind: MovementType, sign: int, ref: str) -> None:
        at = now()
        for line in lines:
            self._change_on_hand(self.items[line.sku], sign * line.quantity)
            self.unit.write(
                INSERT_MOVEMENT, (line.sku, kind.value, sign * line.quantity, ref, None, at)
            )

    def _change_on_hand(self, item: Item, delta: int) -> None:
        item.on_hand += delta
        self._dirty.add(item.sku)
        self._touched.add(item.sku)

        def restore() -> None:
            item.on_hand -= delta

        self.unit.undo(restore)

    def _reprice(self, lines: Lines) -> None:
        at = now()
        for line in lines:
            item = self.items[line.sku]
            before = (item.price, item.unit_cost, item.priced_at)
            item.unit_cost = line.unit_price
            item.price = self.rule.price(line.unit_price, item.available, item.min_level)
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

    def _item(self, sku: str) -> Item:
        item = self.items.get(sku)
        if item is None:
            raise NotFound(f"no product {sku}")
        return item

    def _known(self, lines: Iterable[LineRequest]) -> None:
        errors = [
            {"field": f"items[{i}].sku", "message": f"unknown SKU {ln.sku!r}"}
            for i, ln in enumerate(lines)
            if ln.sku not in self.items
        ]
        if errors:
            raise ValidationError(errors[0]["message"], errors)


def _by_aisle(item: Item) -> tuple[str, str]:
    return (item.aisle, item.sku)

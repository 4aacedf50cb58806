"""The stock actor's housekeeping: operators' actions, what it reports, expiry and alerts.

Mixed into `StockActor` (same state, same single writer); it needs only what
`Keeper` names, so it imports nothing of the actor's module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Protocol

from autogrocery.actors.stock_items import Hold, Item, Lot
from autogrocery.actors.stock_shelf import Shelf
from autogrocery.domain import events
from autogrocery.domain.errors import Conflict, NotFound, ValidationError
from autogrocery.domain.messages.stock import (
    AddProduct,
    AdjustStock,
    DescriptionsVersion,
    ExpireLots,
    ExpiringLots,
    LevelsOf,
    OpenAlerts,
    ReservedAmiss,
    ShortLevels,
    StockLevels,
    StockPage,
    UpdateProduct,
)
from autogrocery.domain.models import MovementType, adjustment_problem, now, sku_problem
from autogrocery.domain.records import Alert, LotLevel, StockLevel
from autogrocery.runtime.base import handles
from autogrocery.store.db import undated_lot
from autogrocery.store.stock_tables import CLEAR_ALERT, CLEAR_EXPIRY, RAISE_ALERT, RAISE_EXPIRY

if TYPE_CHECKING:
    from autogrocery.runtime.context import Context
    from autogrocery.runtime.unit import UnitOfWork

log = logging.getLogger(__name__)

EXPIRED = "expired"  # the ref of an expiry write-off


class Keeper(Protocol):
    """What the housekeeping uses of the stock actor."""

    ctx: Context
    unit: UnitOfWork
    items: dict[str, Item]
    shelf: Shelf
    held: dict[str, Hold]
    alerted: dict[str, float]
    expiring: dict[str, float]
    alert_days: int
    _touched: set[str]
    _changed: set[str]
    _new: set[str]

    def today(self) -> date: ...

    def move(
        self, lot: Lot, kind: MovementType, delta: int, ref: str | None, user: str | None
    ) -> None: ...

    def new_lot(self, item: Item, lot: Lot, ref: str | None) -> None: ...


class StockKeeping:
    # --- what operators read ------------------------------------------------------------

    @handles(StockLevels)
    def levels(self: Keeper, _: StockLevels) -> list[StockLevel]:
        today = self.today()
        return [item.level(today) for item in sorted(self.items.values(), key=_by_aisle)]

    @handles(LevelsOf)
    def levels_of(self: Keeper, msg: LevelsOf) -> list[StockLevel]:
        today, items = self.today(), self.items
        return [items[sku].level(today) for sku in msg.skus if sku in items]

    @handles(ShortLevels)
    def short_levels(self: Keeper, msg: ShortLevels) -> list[StockLevel]:
        today, needed = self.today(), msg.needed
        short = []
        for item in self.items.values():
            available = item.available(today)
            if available < item.min_level or available < needed.get(item.sku, 0.0):
                short.append(item.level(today, described=False))
        return short

    @handles(DescriptionsVersion)
    def descriptions_version(self: Keeper, _: DescriptionsVersion) -> tuple[int, int]:
        return self.shelf.version(self.items)

    @handles(StockPage)
    def level_page(self: Keeper, msg: StockPage) -> list[StockLevel]:
        low = self.alerted.keys() | self._touched  # touched: alerts flip at the batch's end
        return self.shelf.page(self.items, msg, self.today(), low)

    @handles(OpenAlerts)
    def open_alerts(self: Keeper, _: OpenAlerts) -> list[Alert]:
        today = self.today()
        alerts = [
            Alert(self.items[sku].level(today), raised_at)
            for sku, raised_at in self.alerted.items()
            if sku in self.items
        ]
        for lot_id, raised_at in self.expiring.items():
            lot = _lot(self.items, lot_id)
            if lot is not None:
                alerts.append(Alert(self.items[lot.sku].level(today), raised_at, lot.level(today)))
        return sorted(alerts, key=lambda alert: alert.raised_at)

    @handles(ExpiringLots)
    def expiring_lots(self: Keeper, msg: ExpiringLots) -> list[LotLevel]:
        """Lots with stock whose best-before date is at most `days` days away (or past)."""
        today = self.today()
        until = today + timedelta(days=msg.days)
        after = msg.after or ("", "", "")
        found = sorted(
            (
                lot
                for item in self.items.values()
                for lot in item.lots
                if lot.expiry is not None and lot.on_hand > 0 and lot.expiry <= until
            ),
            key=expiry_key,
        )
        shown = [lot for lot in found if expiry_key(lot) > after]
        return [lot.level(today) for lot in shown[: msg.limit]]

    @handles(ReservedAmiss)
    def reserved_amiss(self: Keeper, _: ReservedAmiss) -> list[StockLevel]:
        today = self.today()
        return [
            item.level(today)
            for item in self.items.values()
            if not 0 <= item.reserved <= item.on_hand
        ]

    # --- what operators do --------------------------------------------------------------

    @handles(AdjustStock)
    def adjust(self: Keeper, msg: AdjustStock) -> StockLevel:
        item = self.items.get(msg.sku)
        if item is None:
            raise NotFound(f"no product {msg.sku}")
        if problem := adjustment_problem(msg.reason, msg.delta):
            field = "reason" if "reason" in problem else "delta"
            raise ValidationError(problem, [{"field": field, "message": problem}])
        kind = MovementType(msg.reason)
        today = self.today()
        if msg.delta > 0:
            lot = _target(item, msg.lot_id) if msg.lot_id else item.undated()
            if lot is None:
                lot = Lot(undated_lot(item.sku), item.sku, None, None, item.unit_cost, 0, now())
                self.new_lot(item, lot, None)
            self.move(lot, kind, msg.delta, msg.note, msg.user)
            return item.level(today)
        wanted = -msg.delta
        lots = [_target(item, msg.lot_id)] if msg.lot_id else _takeable(item, kind, today)
        free = sum(lot.free for lot in lots)
        if free < wanted:
            where = f"lot {msg.lot_id}" if msg.lot_id else msg.sku
            spoilt = item.expired(today) if kind == MovementType.OUT and not msg.lot_id else 0
            expired = f", {spoilt} expired: write those off as WASTE" if spoilt else ""
            raise Conflict(
                f"only {free} of {where} can be taken (on hand {item.on_hand}, "
                f"{item.reserved} reserved for orders{expired}); cannot take {wanted}"
            )
        for lot in lots:
            take = min(lot.free, wanted)
            if take:
                self.move(lot, kind, -take, msg.note, msg.user)
                wanted -= take
            if not wanted:
                break
        return item.level(today)

    @handles(AddProduct)
    def add_product(self: Keeper, msg: AddProduct) -> StockLevel:
        if problem := sku_problem(msg.sku):
            raise ValidationError(problem, [{"field": "sku", "message": problem}])
        if msg.sku in self.items:
            raise Conflict(f"product {msg.sku} already exists")
        aisles = {item.aisle for item in self.items.values()}
        if msg.aisle not in aisles:
            raise ValidationError(
                f"unknown aisle {msg.aisle!r}; robots serve {', '.join(sorted(aisles))}",
                [{"field": "aisle", "message": "no robots serve this aisle"}],
            )
        at = now()
        item = Item(msg.sku, msg.name, msg.aisle, msg.unit, msg.min_level)
        item.price, item.unit_cost, item.priced_at = msg.price, msg.unit_cost, at
        self.items[msg.sku] = item
        self.unit.undo(lambda: self.shelf.unadd(self.items, msg.sku))
        self._new.add(msg.sku)
        lot = Lot(undated_lot(msg.sku), msg.sku, None, None, msg.unit_cost, 0, at)
        self.new_lot(item, lot, "new-product")
        if msg.on_hand:
            self.move(lot, MovementType.COUNT, msg.on_hand, "new-product", msg.user)
        self._touched.add(msg.sku)
        return item.level(self.today())

    @handles(UpdateProduct)
    def update_product(self: Keeper, msg: UpdateProduct) -> StockLevel:
        item = self.items.get(msg.sku)
        if item is None:
            raise NotFound(f"no product {msg.sku}")
        before = (item.name, item.min_level, item.price, item.priced_at)

        def restore() -> None:
            item.name, item.min_level, item.price, item.priced_at = before
            self.shelf.described()

        self.unit.undo(restore)
        if msg.name is not None:
            item.name = msg.name
            self.shelf.described()
        if msg.min_level is not None:
            item.min_level = msg.min_level
        if msg.price is not None:
            item.price, item.priced_at = msg.price, now()
        self._changed.add(msg.sku)
        self._touched.add(msg.sku)
        return item.level(self.today())

    # --- expiry and alerts ---------------------------------------------------------------

    @handles(ExpireLots)
    def expire(self: Keeper, _: ExpireLots) -> int:
        """Write off, once, what expired lots hold beyond open orders' holds (those were
        reserved while the lot was good and are honoured). Returns the units written off."""
        today = self.today()
        written_off = 0
        for item in self.items.values():
            for lot in item.lots:
                if lot.expired(today) and lot.free > 0:
                    written_off += lot.free
                    self.move(lot, MovementType.WASTE, -lot.free, EXPIRED, "system")
        if written_off:
            self.unit.then(lambda: log.info("expiry: wrote off %d unit(s)", written_off))
        check_expiry(self, self.items)
        return written_off

    def check_expiry(self: Keeper, skus: Iterable[str]) -> None:
        check_expiry(self, skus)

    def _flip_alert(self: Keeper, item: Item, raised_at: float | None) -> None:
        """Raise or clear `item`'s low-stock alert (the actor's `before_commit` decides)."""
        sku = item.sku
        previous = self.alerted.get(sku)
        level = item.level(self.today())
        if raised_at is not None:
            self.alerted[sku] = raised_at
            self.unit.write(RAISE_ALERT, (sku, level.available, level.min_level, raised_at))
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
        alert = Alert(level, raised_at or previous or 0.0)
        self.unit.then(lambda: self.ctx.events.publish(kind, alert))


def check_expiry(keeper: Keeper, skus: Iterable[str]) -> None:
    """Raise an expiry alert for each lot of `skus` that has stock and is due within
    `alert_days`; clear the ones that have no stock left."""
    today = keeper.today()
    until = today + timedelta(days=keeper.alert_days)
    for sku in skus:
        item = keeper.items.get(sku)
        if item is None:
            continue
        for lot in item.lots:
            due = lot.expiry is not None and lot.expiry <= until and lot.on_hand > 0
            if due and lot.lot_id not in keeper.expiring:
                _flip_expiry(keeper, item, lot, now())
            elif not due and lot.lot_id in keeper.expiring:
                _flip_expiry(keeper, item, lot, None)


def _flip_expiry(keeper: Keeper, item: Item, lot: Lot, raised_at: float | None) -> None:
    previous = keeper.expiring.get(lot.lot_id)
    today = keeper.today()
    if raised_at is not None:
        keeper.expiring[lot.lot_id] = raised_at
        expiry = lot.expiry.isoformat() if lot.expiry else ""
        keeper.unit.write(RAISE_EXPIRY, (lot.lot_id, lot.sku, expiry, lot.on_hand, raised_at))
    else:
        del keeper.expiring[lot.lot_id]
        keeper.unit.write(CLEAR_EXPIRY, (lot.lot_id,))

    def restore() -> None:
        if previous is None:
            keeper.expiring.pop(lot.lot_id, None)
        else:
            keeper.expiring[lot.lot_id] = previous

    keeper.unit.undo(restore)
    kind = events.ALERT_RAISED if raised_at is not None else events.ALERT_CLEARED
    alert = Alert(item.level(today), raised_at or previous or 0.0, lot.level(today))
    keeper.unit.then(lambda: keeper.ctx.events.publish(kind, alert))


def _takeable(item: Item, kind: MovementType, today: date) -> list[Lot]:
    """Lots to take from by hand: for waste the expired ones first, then FEFO; goods
    taken out (OUT) come from good lots only, as for an order; a correction from any."""
    good = [lot for lot in item.lots if not lot.expired(today)]
    if kind == MovementType.WASTE:
        return [lot for lot in item.lots if lot.expired(today)] + good
    if kind == MovementType.OUT:
        return good
    return list(item.lots)


def _target(item: Item, lot_id: str) -> Lot:
    lot = item.lot(lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id} of {item.sku}")
    return lot


def _lot(items: dict[str, Item], lot_id: str) -> Lot | None:
    """The lot, from its SKU's lots. A lot id names its SKU ("SKU/undated", or
    "RESTOCK/SKU/DATE"; a SKU holds no '/'), so only the SKUs its parts name are
    searched first: searching all 50,000 for each of 2,251 expiring lots kept
    /api/ops/alerts from answering within 10 s. Every SKU only for an id made
    otherwise."""
    for part in lot_id.split("/"):
        item = items.get(part)
        found = item.lot(lot_id) if item is not None else None
        if found is not None:
            return found
    for item in items.values():
        lot = item.lot(lot_id)
        if lot is not None:
            return lot
    return None


def _by_aisle(item: Item) -> tuple[str, str]:
    return (item.aisle, item.sku)


def expiry_key(lot: Lot) -> tuple[str, str, str]:
    """Where a lot stands among the expiring ones: its best-before date, SKU and id."""
    return (lot.expiry.isoformat() if lot.expiry else "", lot.sku, lot.lot_id)

"""The stock actor's housekeeping: operators' actions, expiry, and the alerts.

A part of the stock actor (`StockActor.parts`): it changes stock only through the
book, and raises and clears the alerts at each batch's end (`alert`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import orjson

from autogrocery.actors.stock_book import StockBook
from autogrocery.actors.stock_items import Item, Lot
from autogrocery.domain import events
from autogrocery.domain.errors import Conflict, NotFound, ValidationError
from autogrocery.domain.messages.stock import AddProduct, AdjustStock, ExpireLots, UpdateProduct
from autogrocery.domain.models import MovementType, adjustment_problem, now, sku_problem
from autogrocery.domain.records import Alert, StockLevel
from autogrocery.runtime.base import handles
from autogrocery.store.db import undated_lot
from autogrocery.store.stock_tables import (
    CLEAR_ALERT,
    CLEAR_EXPIRY,
    INSERT_NOTICE,
    RAISE_ALERT,
    RAISE_EXPIRY,
)

log = logging.getLogger(__name__)

EXPIRED = "expired"  # the ref of an expiry write-off
NOTICE_LOTS = 50  # lots named in an expiry notice (its totals count them all)


class Housekeeping:
    def __init__(self, book: StockBook, alert_days: int, large_movement: int = 100) -> None:
        self.book = book
        self.alert_days = alert_days
        self.large_movement = large_movement  # units: an adjustment this large is a notice

    # --- what operators do --------------------------------------------------------------

    @handles(AdjustStock)
    def adjust(self, msg: AdjustStock) -> StockLevel:
        book = self.book
        item = book.items.get(msg.sku)
        if item is None:
            raise NotFound(f"no product {msg.sku}")
        if problem := adjustment_problem(msg.reason, msg.delta):
            field = "reason" if "reason" in problem else "delta"
            raise ValidationError(problem, [{"field": field, "message": problem}])
        kind = MovementType(msg.reason)
        today = book.today()
        if abs(msg.delta) >= self.large_movement:
            facts = {"sku": item.sku, "name": item.name, "reason": msg.reason, "delta": msg.delta}
            self._notice(events.LARGE_MOVEMENT, facts | {"note": msg.note, "user": msg.user})
        if msg.delta > 0:
            lot = _target(item, msg.lot_id) if msg.lot_id else item.undated()
            if lot is None:
                lot = Lot(undated_lot(item.sku), item.sku, None, None, item.unit_cost, 0, now())
                book.new_lot(item, lot, None)
            book.move(lot, kind, msg.delta, msg.note, msg.user)
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
                book.move(lot, kind, -take, msg.note, msg.user)
                wanted -= take
            if not wanted:
                break
        return item.level(today)

    @handles(AddProduct)
    def add_product(self, msg: AddProduct) -> StockLevel:
        book = self.book
        if problem := sku_problem(msg.sku):
            raise ValidationError(problem, [{"field": "sku", "message": problem}])
        if msg.sku in book.items:
            raise Conflict(f"product {msg.sku} already exists")
        aisles = {item.aisle for item in book.items.values()}
        if msg.aisle not in aisles:
            raise ValidationError(
                f"unknown aisle {msg.aisle!r}; robots serve {', '.join(sorted(aisles))}",
                [{"field": "aisle", "message": "no robots serve this aisle"}],
            )
        at = now()
        item = Item(msg.sku, msg.name, msg.aisle, msg.unit, msg.min_level)
        item.price, item.unit_cost, item.priced_at = msg.price, msg.unit_cost, at
        book.add_item(item)
        lot = Lot(undated_lot(msg.sku), msg.sku, None, None, msg.unit_cost, 0, at)
        book.new_lot(item, lot, "new-product")
        if msg.on_hand:
            book.move(lot, MovementType.COUNT, msg.on_hand, "new-product", msg.user)
        return item.level(book.today())

    @handles(UpdateProduct)
    def update_product(self, msg: UpdateProduct) -> StockLevel:
        book = self.book
        item = book.items.get(msg.sku)
        if item is None:
            raise NotFound(f"no product {msg.sku}")
        before = (item.name, item.min_level, item.price, item.priced_at)

        def restore() -> None:
            item.name, item.min_level, item.price, item.priced_at = before
            book.shelf.described()

        book.unit.undo(restore)
        if msg.name is not None:
            item.name = msg.name
            book.shelf.described()
        if msg.min_level is not None:
            item.min_level = msg.min_level
        if msg.price is not None:
            item.price, item.priced_at = msg.price, now()
        book.mark_changed(msg.sku)
        return item.level(book.today())

    # --- expiry and alerts ---------------------------------------------------------------

    @handles(ExpireLots)
    def expire(self, _: ExpireLots) -> int:
        """Write off, once, what expired lots hold beyond open orders' holds (those were
        reserved while the lot was good and are honoured). Returns the units written off."""
        book = self.book
        today = book.today()
        written_off = value = 0
        lots: list[dict[str, object]] = []
        for item in book.items.values():
            for lot in item.lots:
                if lot.expired(today) and lot.free > 0:
                    written_off += lot.free
                    value += lot.free * lot.unit_cost
                    if len(lots) < NOTICE_LOTS:
                        lots.append(
                            {
                                "sku": item.sku,
                                "name": item.name,
                                "lot_id": lot.lot_id,
                                "quantity": lot.free,
                                "value": lot.free * lot.unit_cost,
                            }
                        )
                    book.move(lot, MovementType.WASTE, -lot.free, EXPIRED, "system")
        if written_off:
            book.unit.then(lambda: log.info("expiry: wrote off %d unit(s)", written_off))
            facts = {"units": written_off, "value": value, "lots": lots}
            self._notice(events.STOCK_EXPIRED, facts)
        self.check_expiry(book.items)
        return written_off

    def alert(self) -> None:
        """At the batch's end, for each product whose level changed: its low-stock alert
        raised or cleared, its lots' expiry alerts, and the `stock.changed` event."""
        book = self.book
        today, items = book.today(), book.items
        publish = book.ctx.events.publish
        for sku in book.touched:
            item = items.get(sku)
            if item is None:
                continue
            level = item.level(today)  # once: the alert's test and the event's view
            if level.low and sku not in book.alerted:
                self._flip_alert(item, raised_at=now())
            elif not level.low and sku in book.alerted:
                self._flip_alert(item, raised_at=None)
            book.unit.then(lambda level=level: publish(events.STOCK_CHANGED, level))  # type: ignore[misc]
        self.check_expiry(book.touched)

    def check_expiry(self, skus: Iterable[str]) -> None:
        """Raise an expiry alert for each lot of `skus` that has stock and is due within
        `alert_days`; clear the ones that have no stock left."""
        book = self.book
        until = book.today() + timedelta(days=self.alert_days)
        for sku in skus:
            item = book.items.get(sku)
            if item is None:
                continue
            for lot in item.lots:
                due = lot.expiry is not None and lot.expiry <= until and lot.on_hand > 0
                if due and lot.lot_id not in book.expiring:
                    self._flip_expiry(item, lot, now())
                elif not due and lot.lot_id in book.expiring:
                    self._flip_expiry(item, lot, None)

    def _flip_alert(self, item: Item, raised_at: float | None) -> None:
        book = self.book
        sku = item.sku
        previous = book.alerted.get(sku)
        level = item.level(book.today())
        if raised_at is not None:
            book.alerted[sku] = raised_at
            book.unit.write(RAISE_ALERT, (sku, level.available, level.min_level, raised_at))
        else:
            del book.alerted[sku]
            book.unit.write(CLEAR_ALERT, (sku,))

        def restore() -> None:
            if previous is None:
                book.alerted.pop(sku, None)
            else:
                book.alerted[sku] = previous

        book.unit.undo(restore)
        self._publish(Alert(level, raised_at or previous or 0.0), raised=raised_at is not None)

    def _flip_expiry(self, item: Item, lot: Lot, raised_at: float | None) -> None:
        book = self.book
        previous = book.expiring.get(lot.lot_id)
        today = book.today()
        if raised_at is not None:
            book.expiring[lot.lot_id] = raised_at
            expiry = lot.expiry.isoformat() if lot.expiry else ""
            book.unit.write(RAISE_EXPIRY, (lot.lot_id, lot.sku, expiry, lot.on_hand, raised_at))
        else:
            del book.expiring[lot.lot_id]
            book.unit.write(CLEAR_EXPIRY, (lot.lot_id,))

        def restore() -> None:
            if previous is None:
                book.expiring.pop(lot.lot_id, None)
            else:
                book.expiring[lot.lot_id] = previous

        book.unit.undo(restore)
        alert = Alert(item.level(today), raised_at or previous or 0.0, lot.level(today))
        self._publish(alert, raised=raised_at is not None)

    def _publish(self, alert: Alert, *, raised: bool) -> None:
        """The event after the commit, and in the same transaction as the alert's change
        its notice, for the webhooks (api/webhooks.py)."""
        kind = events.ALERT_RAISED if raised else events.ALERT_CLEARED
        self._notice(kind, alert.facts())
        publish = self.book.ctx.events.publish
        self.book.unit.then(lambda: publish(kind, alert))

    def _notice(self, kind: str, facts: dict[str, Any]) -> None:
        """A notice for the webhooks and mail, in the batch's transaction."""
        self.book.unit.write(INSERT_NOTICE, (kind, now(), orjson.dumps(facts).decode()))


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

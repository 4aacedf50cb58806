"""What the stock actor reports: levels (all, some, the short ones, a page), the open
alerts, the lots about to expire, and levels that break their own rule.

A part of the stock actor (`StockActor.parts`): it reads the book and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from autogrocery.actors.stock_book import StockBook
from autogrocery.actors.stock_items import Item, Lot
from autogrocery.domain.messages.stock import (
    DescriptionsVersion,
    ExpiringLots,
    LevelsOf,
    OpenAlerts,
    ReservedAmiss,
    ShortLevels,
    StockLevels,
    StockPage,
)
from autogrocery.domain.records import Alert, LotLevel, StockLevel
from autogrocery.runtime.base import handles


class StockViews:
    def __init__(self, book: StockBook) -> None:
        self.book = book

    @handles(StockLevels)
    def levels(self, _: StockLevels) -> list[StockLevel]:
        today = self.book.today()
        return [item.level(today) for item in sorted(self.book.items.values(), key=_by_aisle)]

    @handles(LevelsOf)
    def levels_of(self, msg: LevelsOf) -> list[StockLevel]:
        today, items = self.book.today(), self.book.items
        return [items[sku].level(today) for sku in msg.skus if sku in items]

    @handles(ShortLevels)
    def short_levels(self, msg: ShortLevels) -> list[StockLevel]:
        today, needed = self.book.today(), msg.needed
        short = []
        for item in self.book.items.values():
            available = item.available(today)
            if available < item.min_level or available < needed.get(item.sku, 0.0):
                short.append(item.level(today, described=False))
        return short

    @handles(DescriptionsVersion)
    def descriptions_version(self, _: DescriptionsVersion) -> tuple[int, int]:
        return self.book.shelf.version(self.book.items)

    @handles(StockPage)
    def level_page(self, msg: StockPage) -> list[StockLevel]:
        book = self.book
        low = book.alerted.keys() | book.touched  # touched: alerts flip at the batch's end
        return book.shelf.page(book.items, msg, book.today(), low)

    @handles(OpenAlerts)
    def open_alerts(self, _: OpenAlerts) -> list[Alert]:
        book = self.book
        today, items = book.today(), book.items
        alerts = [
            Alert(items[sku].level(today), raised_at)
            for sku, raised_at in book.alerted.items()
            if sku in items
        ]
        for lot_id, raised_at in book.expiring.items():
            lot = find_lot(items, lot_id)
            if lot is not None:
                alerts.append(Alert(items[lot.sku].level(today), raised_at, lot.level(today)))
        return sorted(alerts, key=lambda alert: alert.raised_at)

    @handles(ExpiringLots)
    def expiring_lots(self, msg: ExpiringLots) -> list[LotLevel]:
        """Lots with stock whose best-before date is at most `days` days away (or past)."""
        today = self.book.today()
        until = today + timedelta(days=msg.days)
        after = msg.after or ("", "", "")
        found = sorted(
            (
                lot
                for item in self.book.items.values()
                for lot in item.lots
                if lot.expiry is not None and lot.on_hand > 0 and lot.expiry <= until
            ),
            key=expiry_key,
        )
        shown = [lot for lot in found if expiry_key(lot) > after]
        return [lot.level(today) for lot in shown[: msg.limit]]

    @handles(ReservedAmiss)
    def reserved_amiss(self, _: ReservedAmiss) -> list[StockLevel]:
        today = self.book.today()
        return [
            item.level(today)
            for item in self.book.items.values()
            if not 0 <= item.reserved <= item.on_hand
        ]


def find_lot(items: dict[str, Item], lot_id: str) -> Lot | None:
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

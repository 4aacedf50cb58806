"""The stock actor's markdowns: lots sold below their product's price, and the lots
that will expire before they sell.

A part of the stock actor (`StockActor.parts`). A markdown is the price of one dated
lot's units until it ends (`until`, or an operator ends it); the live ones are kept in
memory and in `markdowns`. A preview that takes units from a marked-down lot (FEFO)
bills them on a line of their own: the SKU, the lot's best-before date as the line's
`expiry_date`, and the markdown price; the other units stay on the SKU's line at the
normal price. So an order's total is the sum over its lots, locked at preview as every
price is. When the order settles, the units sold at a markdown are written to
`markdown_sales`, for the reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from autogrocery.actors.stock_book import StockBook
from autogrocery.actors.stock_items import Allocation, Item, Lot
from autogrocery.actors.stock_views import find_lot
from autogrocery.domain.at_risk import (
    AtRiskLot,
    Markdown,
    MarkedLot,
    OnSale,
    Outlook,
    lift,
    outlook,
    suggest,
)
from autogrocery.domain.errors import Conflict, NotFound, ValidationError
from autogrocery.domain.messages.markdowns import AtRiskLots, MarkDownLot
from autogrocery.domain.models import Lines, OrderLine
from autogrocery.domain.records import OrderRecord
from autogrocery.domain.reports import day_start
from autogrocery.runtime.base import handles
from autogrocery.store.markdown_tables import INSERT_MARKDOWN_SALE, SET_MARKDOWN, live_markdowns

if TYPE_CHECKING:
    from autogrocery.runtime.context import Context
    from autogrocery.store.shared import SharedConnection

DAY = 86400.0


class Markdowns:
    def __init__(self, book: StockBook, ctx: Context) -> None:
        self.book = book
        self.ctx = ctx
        self.live: dict[str, Markdown] = {}  # lot id -> its markdown, not yet over

    def load(self, db: SharedConnection) -> None:
        self.live = {row[0]: Markdown(*row) for row in live_markdowns(db, self.ctx.clock())}

    # --- what operators do --------------------------------------------------------------

    @handles(MarkDownLot)
    def mark_down(self, msg: MarkDownLot) -> MarkedLot:
        book = self.book
        lot = find_lot(book.items, msg.lot_id)
        if lot is None:
            raise NotFound(f"no lot {msg.lot_id}")
        item, at = book.items[lot.sku], self.ctx.clock()
        current = self.active(lot.lot_id, at)
        if msg.price is None:
            if current is not None:
                self._set(replace(current, until=at))
            return self.marked(item, lot, at)
        self._check(item, lot, msg.price, msg.until, at)
        self._set(Markdown(lot.lot_id, lot.sku, msg.price, at, msg.until, msg.user))
        return self.marked(item, lot, at)

    def _check(self, item: Item, lot: Lot, price: int, until: float | None, at: float) -> None:
        if lot.expiry is None:
            raise Conflict(
                f"lot {lot.lot_id} is undated and does not expire: change the product's price"
            )
        if lot.expired(self.book.today()):
            raise Conflict(f"lot {lot.lot_id} has expired: it is not for sale")
        if lot.on_hand <= 0:
            raise Conflict(f"lot {lot.lot_id} holds no stock")
        if price >= item.price:
            raise ValidationError(
                f"a markdown must be below the product's price ({item.price / 100:.2f})",
                [{"field": "price", "message": "not below the product's price"}],
            )
        if until is not None and until <= at:
            raise ValidationError(
                "until must be in the future", [{"field": "until", "message": "in the past"}]
            )
        for twin in item.lots:  # one line per SKU and date: twins sell at one markdown
            other = self.active(twin.lot_id, at) if twin is not lot else None
            if twin.expiry == lot.expiry and other is not None and other.price != price:
                raise Conflict(
                    f"lot {twin.lot_id}, of the same best-before date, is marked down to "
                    f"{other.price / 100:.2f}: mark this one down to the same price"
                )

    def _set(self, markdown: Markdown) -> None:
        lot_id, at = markdown.lot_id, self.ctx.clock()
        before = self.live.get(lot_id)
        if markdown.active(at):
            self.live[lot_id] = markdown
        else:
            self.live.pop(lot_id, None)

        def restore() -> None:
            if before is None:
                self.live.pop(lot_id, None)
            else:
                self.live[lot_id] = before

        unit = self.book.unit
        unit.undo(restore)
        row = (lot_id, markdown.sku, markdown.price, markdown.since, markdown.until)
        unit.write(SET_MARKDOWN, (*row, markdown.user))

    def active(self, lot_id: str, at: float) -> Markdown | None:
        markdown = self.live.get(lot_id)
        return markdown if markdown is not None and markdown.active(at) else None

    def marked(self, item: Item, lot: Lot, at: float) -> MarkedLot:
        return MarkedLot(
            lot.lot_id,
            lot.sku,
            item.name,
            lot.expiry,
            lot.on_hand,
            lot.held,
            lot.unit_cost,
            item.price,
            self.active(lot.lot_id, at),
        )

    # --- orders -------------------------------------------------------------------------

    def priced(self, lines: Lines, allocations: tuple[Allocation, ...]) -> Lines:
        """A preview's lines with the units from marked-down lots on lines of their own."""
        if not self.live:
            return lines
        at = self.ctx.clock()
        marked: dict[str, dict[date, list[int]]] = defaultdict(dict)  # sku -> date -> [price, n]
        for lot, quantity in allocations:
            markdown = self.active(lot.lot_id, at)
            if markdown is None or lot.expiry is None:
                continue
            entry = marked[lot.sku].setdefault(lot.expiry, [markdown.price, 0])
            entry[0] = min(entry[0], markdown.price)
            entry[1] += quantity
        if not marked:
            return lines
        priced: list[OrderLine] = []
        for line in lines:
            dated = {
                day: e for day, e in marked.get(line.sku, {}).items() if e[0] < line.unit_price
            }
            rest = line.quantity - sum(quantity for _, quantity in dated.values())
            if rest > 0:
                priced.append(replace(line, quantity=rest))
            for day, (price, quantity) in sorted(dated.items()):
                priced.append(replace(line, quantity=quantity, unit_price=price, expiry_date=day))
        return tuple(priced)

    def sold(self, order: OrderRecord | None, allocations: tuple[Allocation, ...]) -> None:
        """A customer order settled: its units sold at a markdown, by lot (the lots of the
        line's date first, then its SKU's others: a hold allocated again at a restart may
        take other lots than the preview did)."""
        if order is None:
            return
        lines = [line for line in order.lines if line.expiry_date is not None]
        if not lines:
            return
        left = {id(lot): quantity for lot, quantity in allocations}
        sales: dict[str, list[int]] = {}  # lot id -> [quantity, unit price]
        lots = {lot.lot_id: lot for lot, _ in allocations}
        live = self.live
        for line in lines:
            wanted = line.quantity
            same = [a for a in allocations if a[0].sku == line.sku]
            # The line's date's marked-down lots first, then its other lots of that date.
            same.sort(key=lambda a: (a[0].expiry != line.expiry_date, a[0].lot_id not in live))
            for lot, _ in same:
                take = min(wanted, left[id(lot)])
                if take > 0:
                    left[id(lot)] -= take
                    wanted -= take
                    sales.setdefault(lot.lot_id, [0, line.unit_price])[0] += take
        at = self.ctx.clock()
        for lot_id, (quantity, price) in sales.items():
            row = (order.order_id, lot_id, lots[lot_id].sku, quantity, price, at)
            self.book.unit.write(INSERT_MARKDOWN_SALE, row)

    # --- at risk ------------------------------------------------------------------------

    @handles(AtRiskLots)
    def at_risk(self, msg: AtRiskLots) -> list[AtRiskLot]:
        book = self.book
        today, at, zone = book.today(), self.ctx.clock(), self.ctx.zone
        after = msg.after or ("", "", "")
        ends: dict[date, float] = {}  # a best-before date -> the end of that day
        found: list[tuple[tuple[str, str, str], Item, Lot, Outlook]] = []
        for item in book.items.values():
            lots = item.lots
            if not lots or lots[0].expiry is None:  # FEFO order: dated lots first
                continue
            on_sale: list[OnSale] = []
            sale_lots: list[Lot] = []
            for lot in lots:
                expiry = lot.expiry
                if expiry is None:
                    break
                if expiry < today or lot.on_hand <= lot.held:
                    continue
                end = ends.get(expiry)
                if end is None:
                    end = ends[expiry] = day_start(expiry + timedelta(days=1), zone)
                markdown = self.active(lot.lot_id, at) if self.live else None
                faster = lift(markdown.price, item.price, msg.elasticity) if markdown else 1.0
                on_sale.append(OnSale(lot.lot_id, expiry, lot.free, (end - at) / DAY, faster))
                sale_lots.append(lot)
            if not on_sale:
                continue
            seen = outlook(on_sale, msg.rates.get(item.sku, 0.0))
            for lot, lot_seen in zip(sale_lots, seen, strict=True):
                key = (lot_seen.lot.expiry.isoformat(), item.sku, lot.lot_id)
                if lot_seen.left > 0 and key > after:
                    found.append((key, item, lot, lot_seen))
        found.sort(key=lambda entry: entry[0])
        shown = found[: msg.limit] if msg.limit is not None else found
        return [self._at_risk(item, lot, seen, msg, at) for _, item, lot, seen in shown]

    def _at_risk(
        self, item: Item, lot: Lot, seen: Outlook, msg: AtRiskLots, at: float
    ) -> AtRiskLot:
        rate = msg.rates.get(item.sku, 0.0)
        hint = suggest(seen, rate, item.price, lot.unit_cost, msg.elasticity, msg.floor)
        return AtRiskLot(self.marked(item, lot, at), rate, seen, hint)

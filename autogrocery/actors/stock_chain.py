"""The stock actor's part in a chain of stores: transfers to ship and to receive, and
the head office's catalog versions (docs/chain.md).

A part of the stock actor (`StockActor.parts`): it changes stock only through the
book, and stores a transfer as an order (`Orders.create`) in the same batch.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from typing import TYPE_CHECKING

from autogrocery.actors.chain_facts import receipt
from autogrocery.actors.stock_book import StockBook
from autogrocery.actors.stock_items import Item, Lot
from autogrocery.domain.messages.chain import (
    ApplyCatalog,
    CatalogChange,
    ReceiveTransfer,
    ReportLevels,
    ShipTransfer,
)
from autogrocery.domain.messages.ordering import CreateOrder
from autogrocery.domain.models import (
    TRANSFER_OWNER,
    OrderKind,
    OrderLine,
    ProductDetails,
    new_id,
    now,
)
from autogrocery.runtime.base import handles
from autogrocery.store.db import undated_lot
from autogrocery.store.stock_tables import SET_META, UPDATE_PRODUCT

if TYPE_CHECKING:
    from autogrocery.actors.ordering import Orders
    from autogrocery.domain.records import OrderRecord
    from autogrocery.store.stock_tables import StockTables

log = logging.getLogger(__name__)

CATALOG_VERSION = "catalog_version"  # stock_meta key


class ChainStock:
    def __init__(self, book: StockBook, orders: Orders) -> None:
        self.book = book
        self.orders = orders
        self.catalog_version = 0  # the head office's last catalog version applied here

    def load(self, tables: StockTables) -> None:
        self.catalog_version = int(tables.meta(CATALOG_VERSION) or 0)

    @handles(ShipTransfer)
    def ship(self, msg: ShipTransfer) -> OrderRecord:
        """Reserve what the head office asks this store to ship (FEFO, as a preview
        does) for a TRANSFER_OUT order keyed by the transfer id, or refuse it, saying
        which SKUs lack free stock. The orders keep the first decision for a transfer id
        (a redelivered request finds it)."""
        book = self.book
        today, items = book.today(), book.items
        wanted: dict[str, int] = {}
        for line in msg.items:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        lines = tuple(
            OrderLine(sku, item.name, item.aisle, quantity, item.unit_cost)
            if (item := items.get(sku)) is not None
            else OrderLine(sku, sku, "", quantity, 0)
            for sku, quantity in sorted(wanted.items())
        )
        order_id, owner = new_id("xfo"), TRANSFER_OWNER + msg.to_store
        unknown = [ln.sku for ln in lines if ln.sku not in items]
        allocations = None if unknown else book.allocate(lines, today)
        if allocations is None:
            short = [f"{sku} is not sold here" for sku in unknown] + [
                f"{ln.sku} (asked {ln.quantity}, free {free})"
                for ln in lines
                if ln.sku in items and (free := items[ln.sku].available(today)) < ln.quantity
            ]
            reason = "not enough free stock: " + ", ".join(short)
            refused = CreateOrder(
                order_id, OrderKind.TRANSFER_OUT, owner, lines, msg.transfer_id, reason
            )
            return self.orders.create(refused)
        book.hold(order_id, lines, allocations)
        return self.orders.create(
            CreateOrder(order_id, OrderKind.TRANSFER_OUT, owner, lines, msg.transfer_id)
        )

    @handles(ReceiveTransfer)
    def receive(self, msg: ReceiveTransfer) -> OrderRecord | None:
        """A shipment on its way: a TRANSFER_IN order keyed by the transfer id, one line
        per SKU and best-before date as shipped (their cost averaged). A SKU this store
        does not sell is left out: the head office sees it received short."""
        book, items = self.book, self.book.items
        merged: dict[tuple[str, date | None], list[int]] = {}
        mfd: dict[tuple[str, date | None], date | None] = {}
        for line in msg.lines:
            if line.sku not in items:
                log.warning(
                    "transfer %s: %s is not sold here; not received", msg.transfer_id, line.sku
                )
                continue
            key = (line.sku, line.expiry_date)
            units, cost = merged.get(key, [0, 0])
            merged[key] = [units + line.quantity, cost + line.quantity * (line.unit_cost or 0)]
            mfd.setdefault(key, line.mfd_date)
        lines = tuple(
            OrderLine(
                sku,
                items[sku].name,
                items[sku].aisle,
                units,
                cost // units,
                expiry,
                mfd[(sku, expiry)],
            )
            for (sku, expiry), (units, cost) in sorted(
                merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or date.max)
            )
        )
        if not lines:  # nothing of it is sold here: received empty, no robot work
            if book.facts is not None:
                book.facts.received(book.unit, receipt(msg.transfer_id, msg.from_store, ()))
            return None
        owner = TRANSFER_OWNER + msg.from_store
        return self.orders.create(
            CreateOrder(new_id("xfi"), OrderKind.TRANSFER_IN, owner, lines, msg.transfer_id)
        )

    @handles(ReportLevels)
    def report_levels(self, _: ReportLevels) -> None:
        if self.book.facts is not None:
            self.book.facts.report_all(self.book.unit)

    @handles(ApplyCatalog)
    def apply_catalog(self, msg: ApplyCatalog) -> int:
        """Apply a catalog version once: names, prices, costs, min levels and details of
        the products it names, and the new products it brings (on an aisle robots
        serve; none in stock yet). Returns the version the store holds."""
        if msg.version <= self.catalog_version:
            return self.catalog_version  # a redelivery
        if msg.version != self.catalog_version + 1:
            log.warning(
                "catalog version %d applied after %d: the versions between never came",
                msg.version,
                self.catalog_version,
            )
        book = self.book
        aisles = {item.aisle for item in book.items.values()}
        for change in msg.products:
            if change.aisle is not None and change.aisle not in aisles:
                log.warning(
                    "catalog version %d: %s left out: no robots serve aisle %r here",
                    msg.version,
                    change.sku,
                    change.aisle,
                )
                continue
            item = book.items.get(change.sku)
            if item is None:
                _add(book, change, msg.version)
            else:
                _change(book, item, change, msg.version)
        before = self.catalog_version
        self.catalog_version = msg.version

        def restore() -> None:
            self.catalog_version = before

        book.unit.undo(restore)
        book.unit.write(SET_META, (CATALOG_VERSION, str(msg.version)))
        if book.facts is not None:
            book.facts.catalog(book.unit, msg.version)
        version = msg.version
        book.unit.then(lambda: log.info("catalog version %d applied", version))
        return msg.version


def _add(book: StockBook, change: CatalogChange, version: int) -> None:
    if change.name is None or change.aisle is None or change.price is None:
        log.warning(
            "catalog version %d: new product %s needs a name, an aisle and a price; left out",
            version,
            change.sku,
        )
        return
    at = now()
    item = Item(change.sku, change.name, change.aisle, change.unit or "each", change.min_level or 0)
    item.price, item.unit_cost, item.priced_at = change.price, change.unit_cost or 0, at
    item.details = _details(ProductDetails.default(change.aisle), change)
    item.details_version = version
    book.add_item(item)
    book.new_lot(
        item, Lot(undated_lot(change.sku), change.sku, None, None, item.unit_cost, 0, at), None
    )


# What a catalog version may change of an item (and a failed batch puts back): what
# stock stores of a product it updates.
CHANGEABLE = UPDATE_PRODUCT.columns


def _change(book: StockBook, item: Item, change: CatalogChange, version: int) -> None:
    before = [getattr(item, name) for name in CHANGEABLE]

    def restore() -> None:
        for name, value in zip(CHANGEABLE, before, strict=True):
            setattr(item, name, value)
        book.shelf.invalidate()

    book.unit.undo(restore)
    book.shelf.described()  # a name, the details or the aisle may change: searches see it
    item.name = change.name or item.name
    if change.aisle and change.aisle != item.aisle:
        item.aisle = change.aisle
        book.shelf.invalidate()
    item.unit = change.unit or item.unit
    if change.min_level is not None:
        item.min_level = change.min_level
    if change.unit_cost is not None:
        item.unit_cost = change.unit_cost
    if change.price is not None:
        item.price, item.priced_at = change.price, now()
    if change.details:
        item.details = _details(item.details or ProductDetails.default(item.aisle), change)
        item.details_version = version
    book.mark_changed(item.sku)


def _details(base: ProductDetails, change: CatalogChange) -> ProductDetails:
    fields = dict(change.details or {})
    if "keywords" in fields:
        fields["keywords"] = tuple(fields["keywords"])
    return dataclasses.replace(base, **fields)

"""What the head office's dashboard knows about the chain: the stores, how many
transfers are in flight, and what the visible panel asked for (a SKU's stock or a page
of every SKU, the transfers of a status, sales over days), as the head office last
answered. The head office sends no live events: the feed polls it (`feed.py`) and puts
each answer here, as the head office's own Struct (`contract/head_office.py`); a setter
marks its panel dirty and the app redraws it. A fetch that failed leaves the last
figures and says why (`errors`). No textual here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from autogrocery.contract.head_office import (
    Sales,
    SkuStock,
    StockPage,
    StoreStatus,
    Transfer,
    TransferList,
)

PANELS = ("stores", "stock", "transfers", "sales")
TRANSFER_STATUSES = ("REQUESTED", "SHIPPED", "RECEIVED", "REFUSED")
IN_FLIGHT = ("REQUESTED", "SHIPPED")  # asked of a store, not settled yet
SALES_DAYS = 7  # the sales panel's default: the last 7 days of the chain, today included


@dataclass(frozen=True, slots=True)
class InFlight:
    count: int
    more: bool = False  # there are more than `count` (a page of each status was counted)

    def __str__(self) -> str:
        return f"{self.count}+" if self.more else str(self.count)


def store_status(store: StoreStatus) -> str:
    return store.status


def parse_day(text: str) -> datetime.date:
    """A day as the head office takes it (YYYY-MM-DD); ValueError in plain words."""
    text = text.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day like 2026-12-01") from None


def week_to(last: str) -> str:
    """The first of the `SALES_DAYS` days that end on `last` (YYYY-MM-DD)."""
    return (parse_day(last) - datetime.timedelta(days=SALES_DAYS - 1)).isoformat()


class ChainModel:
    def __init__(self) -> None:
        self.stores: dict[str, StoreStatus] = {}  # by store id, in id order
        self.in_flight: InFlight | None = None  # None: not counted yet
        # The stock panel: one SKU's stock in every store, or a page of every SKU.
        self.stock_sku: str | None = None  # what the operator asked for (None: the list)
        self.stock: SkuStock | None = None  # the head office's answer for it
        self.stock_items: list[SkuStock] = []  # the page of every SKU shown
        self.stock_cursors: list[str | None] = [None]  # the cursor of each page so far
        self.stock_next: str | None = None  # the next page's cursor (None: the last page)
        # The transfers panel: the newest of one status (None: any).
        self.transfer_status: str | None = None
        self.transfers: list[Transfer] = []
        self.transfers_more = False
        # The sales panel: the days asked for (None, None: the last SALES_DAYS days).
        self.sales_range: tuple[str | None, str | None] = (None, None)
        self.sales: Sales | None = None
        self.errors: dict[str, str] = {}  # panel → why its last fetch failed, verbatim
        self.polls = 0  # answers from the head office so far (a window follows them)
        self.dirty: set[str] = set(PANELS)

    # --- the feed's answers ----------------------------------------------------------

    def set_stores(self, stores: list[StoreStatus]) -> None:
        self.stores = {s.store_id: s for s in sorted(stores, key=lambda s: s.store_id)}
        self.polls += 1
        self.dirty.add("stores")

    def set_in_flight(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight

    def set_stock(self, sku: str, found: SkuStock | None, error: str | None = None) -> None:
        """One SKU's answer (None with an error: the head office does not know it)."""
        if sku != self.stock_sku:
            return  # the operator asked for another since
        self.stock = found
        self._error("stock", error)

    def set_stock_page(self, cursor: str | None, page: StockPage) -> None:
        if self.stock_sku is not None or cursor != self.stock_cursors[-1]:
            return
        self.stock_items = page.items
        self.stock_next = page.next_cursor
        self._error("stock", None)

    def set_transfers(self, status: str | None, page: TransferList) -> None:
        if status != self.transfer_status:
            return
        self.transfers = page.transfers
        self.transfers_more = page.next_cursor is not None
        self._error("transfers", None)

    def set_sales(self, asked: tuple[str | None, str | None], report: Sales) -> None:
        if asked != self.sales_range:
            return
        self.sales = report
        self._error("sales", None)

    def failed(self, panel: str, reason: str) -> None:
        self._error(panel, reason)

    def _error(self, panel: str, reason: str | None) -> None:
        if reason is None:
            self.errors.pop(panel, None)
        else:
            self.errors[panel] = reason
        self.dirty.add(panel)

    # --- what the operator asks for --------------------------------------------------

    def ask_stock(self, sku: str | None) -> None:
        """One SKU (None or blank: the list of every SKU, from its first page)."""
        sku = (sku or "").strip().upper() or None
        if sku != self.stock_sku:
            self.stock = None
        self.stock_sku = sku
        if sku is None:
            self.stock_cursors = [None]
        self.errors.pop("stock", None)
        self.dirty.add("stock")

    def page(self, step: int) -> bool:
        """Move through the list of every SKU; False when there is no such page."""
        if self.stock_sku is not None:
            return False
        if step > 0 and self.stock_next is not None:
            self.stock_cursors.append(self.stock_next)
        elif step < 0 and len(self.stock_cursors) > 1:
            self.stock_cursors.pop()
        else:
            return False
        self.dirty.add("stock")
        return True

    @property
    def stock_cursor(self) -> str | None:
        return self.stock_cursors[-1]

    def ask_transfers(self, status: str | None) -> None:
        if status != self.transfer_status:
            self.transfer_status = status
            self.transfers = []
            self.transfers_more = False
            self.errors.pop("transfers", None)
            self.dirty.add("transfers")

    def ask_sales(self, first: str | None, last: str | None) -> None:
        if (first, last) != self.sales_range:
            self.sales_range = (first, last)
            self.errors.pop("sales", None)
            self.dirty.add("sales")

    # --- views -----------------------------------------------------------------------

    def up(self) -> list[str]:
        return [sid for sid, s in self.stores.items() if store_status(s) == "up"]

    def down(self) -> list[str]:
        return [sid for sid, s in self.stores.items() if store_status(s) == "down"]

    def never(self) -> list[str]:
        return [sid for sid, s in self.stores.items() if store_status(s) == "never"]

    @property
    def catalog_version(self) -> int:
        """The newest catalog version any store holds."""
        return max((s.catalog_version for s in self.stores.values()), default=0)

    def find_transfer(self, transfer_id: str) -> Transfer | None:
        return next((t for t in self.transfers if t.transfer_id == transfer_id), None)

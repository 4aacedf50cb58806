"""The head office's dashboard: the chain's stores (up, down, never heard from; lag;
catalog version; units on hand), a SKU's stock across the stores, transfers between
them, and sales and waste per store, over the head office's HTTP API.

The head office sends no live events: `ChainFeed` polls it in a worker (every
`poll_interval` seconds, and at once when the operator asks for something) and puts
the answers in `ChainModel`; the frame (`base.OperatorApp`, shared with the store's
dashboard) redraws the visible panel when its data changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Select, TabbedContent

from autogrocery.tui.base import OperatorApp
from autogrocery.tui.chain.actions import CatalogScreen, RequestTransferScreen
from autogrocery.tui.chain.client import ChainClient
from autogrocery.tui.chain.feed import POLL_INTERVAL, ChainFeed
from autogrocery.tui.chain.model import PANELS, TRANSFER_STATUSES, ChainModel
from autogrocery.tui.chain.sales import SalesPanel
from autogrocery.tui.chain.status import TITLES, status_line, tab_labels
from autogrocery.tui.chain.stock import StockPanel
from autogrocery.tui.chain.stores import StoresPanel
from autogrocery.tui.chain.transfer import TransferScreen
from autogrocery.tui.chain.transfers import TransfersPanel
from autogrocery.tui.feed import Backoff
from autogrocery.tui.messages import LinkChanged, StoreChanged

MODAL_BLOCKED = {"request_transfer", "publish", "show", "filter", "find_sku", "sales_days"}


class ChainApp(OperatorApp[ChainModel]):
    TITLE = "autogrocery head office"
    PANELS = PANELS
    TITLES = TITLES
    MODAL_BLOCKED = frozenset(MODAL_BLOCKED)
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        Binding("1", "show('stores')", "Stores", show=False),
        Binding("2", "show('stock')", "Stock", show=False),
        Binding("3", "show('transfers')", "Transfers", show=False),
        Binding("4", "show('sales')", "Sales", show=False),
        Binding("s", "find_sku", "SKU"),
        Binding("t", "request_transfer", "Transfer"),
        Binding("f", "filter", "Status"),
        Binding("d", "sales_days", "Days"),
        Binding("p", "publish", "Prices"),
        Binding("f1,question_mark", "toggle_help", "Keys", key_display="F1"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]

    def __init__(
        self,
        client: ChainClient | None = None,
        *,
        model: ChainModel | None = None,
        redraw_hz: float = 5.0,
        poll_interval: float = POLL_INTERVAL,
        wall_clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        url: str = "",
        settings_path: Path | None = None,
    ) -> None:
        self.model: ChainModel = model or ChainModel()
        super().__init__(
            self.model,
            connected=client is None,
            url=client.url if client else url,
            redraw_hz=redraw_hz,
            settings_path=settings_path,
        )
        self.client = client
        self.poll_interval = poll_interval
        self.wall_clock = wall_clock
        self.backoff = backoff
        self.feed: ChainFeed | None = None

    # --- the frame's questions -------------------------------------------------------

    def panes(self) -> Iterable[Widget]:
        yield StoresPanel(self.model, self.wall_clock, id="stores-panel")
        yield StockPanel(self.model, self.wall_clock, id="stock-panel")
        yield TransfersPanel(self.model, id="transfers-panel")
        yield SalesPanel(self.model, id="sales-panel")

    def on_mount(self) -> None:
        if self.client is not None:
            self.follow()

    def status(self) -> Text:
        return status_line(self.model, self.link)

    def tab_labels(self) -> dict[str, str]:
        return tab_labels(self.model)

    def followed(self) -> None:
        if isinstance(self.screen, TransferScreen):
            self.screen.follow()

    def timing_figures(self) -> dict[str, float]:
        return {"polls": float(self.model.polls)}

    # --- I/O -------------------------------------------------------------------------

    @work(exclusive=True, group="feed")
    async def follow(self) -> None:
        if self.client is None:
            return
        self.feed = ChainFeed(
            self.client,
            self.model,
            lambda link: self.post_message(LinkChanged(link)),
            lambda: self.active if self._on_screen() else PANELS[0],
            interval=self.poll_interval,
            backoff=self.backoff,
        )
        await self.feed.run()

    def poke(self) -> None:
        """Ask the head office now (the operator asked for something new)."""
        if self.feed is not None:
            self.feed.poke()

    @on(StockPanel.Asked)
    @on(SalesPanel.Asked)
    @on(TransfersPanel.FilterChanged)
    @on(TabbedContent.TabActivated)
    def _asked(self) -> None:
        self.poke()

    @on(TransfersPanel.Open)
    def _open_transfer(self, message: TransfersPanel.Open) -> None:
        self.push_screen(TransferScreen(self.client, message.transfer_id, self.model))

    @on(StoreChanged)
    def _changed(self, message: StoreChanged) -> None:
        self.notify(message.what, title="done")
        self.poke()

    # --- actions ---------------------------------------------------------------------

    def _selected_store(self) -> str | None:
        if self.active == "stores":
            return self.main.query_one("#stores-panel", StoresPanel).table.current_key
        return None

    def action_request_transfer(self) -> None:
        self.push_screen(RequestTransferScreen(self.client, self.model, self._selected_store()))

    def action_publish(self) -> None:
        self.push_screen(CatalogScreen(self.client, self.model))

    def action_filter(self) -> None:
        self.action_show("transfers")
        self.main.query_one("#transfers-panel", TransfersPanel).cycle_filter()

    def action_find_sku(self) -> None:
        self.show_field("stock", "#stock-sku")

    def action_sales_days(self) -> None:
        self.show_field("sales", "#sales-from")

    def set_status(self, status: str | None) -> None:
        """Show the transfers of one status (None: all)."""
        self.action_show("transfers")
        panel = self.main.query_one("#transfers-panel", TransfersPanel)
        panel.query_one("#transfer-status", Select).value = status or "ALL"

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from self._commands()

    def _commands(self) -> Iterator[SystemCommand]:
        yield SystemCommand(
            "Request a transfer",
            "Move stock from one store to another (t)",
            self.action_request_transfer,
        )
        yield SystemCommand(
            "Publish prices", "A new catalog version for every store (p)", self.action_publish
        )
        yield SystemCommand("Find a SKU", "Its stock in every store (s)", self.action_find_sku)
        yield SystemCommand("Sales over days", "Choose the days (d)", self.action_sales_days)
        for number, name in enumerate(PANELS, start=1):
            yield SystemCommand(
                f"Show {name}",
                f"Switch to the {name} panel ({number})",
                lambda name=name: self.action_show(name),
            )
        for status in (None, *TRANSFER_STATUSES):
            yield SystemCommand(
                f"Transfers: {(status or 'all').lower()}",
                f"Show {'only ' + status if status else 'every'} transfer (f)",
                lambda status=status: self.set_status(status),
            )

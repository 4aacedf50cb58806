"""The operators' dashboard: orders, inventory, robots, analytics and alerts of one store,
live over its HTTP API and `/api/events` WebSocket.

Events only update `StoreModel`; a timer redraws the visible panel when it is dirty,
`redraw_hz` times a second at most, so the cost of drawing does not grow with the
event rate (`base.OperatorApp`, shared with the head office's dashboard). All I/O runs
in async workers on the app's loop (no threads).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Select

from autogrocery.client import ApiError, Disconnected
from autogrocery.tui.base import OperatorApp
from autogrocery.tui.client import ApiClient
from autogrocery.tui.commands import commands
from autogrocery.tui.feed import Backoff, Feed
from autogrocery.tui.messages import LinkChanged, StoreChanged
from autogrocery.tui.model import PANELS, REPORTS_EVERY, StoreModel
from autogrocery.tui.screens.actions import AdjustScreen, ProductScreen, RestockScreen
from autogrocery.tui.screens.command import CommandScreen
from autogrocery.tui.screens.notifications import NotificationsScreen
from autogrocery.tui.screens.order import OrderScreen
from autogrocery.tui.status import TITLES, status_line, tab_labels
from autogrocery.tui.widgets.alerts import AlertsPanel
from autogrocery.tui.widgets.analytics import AnalyticsPanel
from autogrocery.tui.widgets.inventory import InventoryPanel
from autogrocery.tui.widgets.orders import OrdersPanel
from autogrocery.tui.widgets.reports import ReportsPanel
from autogrocery.tui.widgets.robots import RobotsPanel

RECONCILE_EVERY = 10  # polls between full re-reads of inventory and alerts…
RECONCILE_SKUS = 5000  # …for every this many SKUs: a 50,000-SKU store's is 10 MB
MODAL_BLOCKED = {"restock", "adjust", "command", "edit_product", "show", "filter", "kind"}


class DashboardApp(OperatorApp[StoreModel]):
    PANELS = PANELS
    TITLES = TITLES
    MODAL_BLOCKED = frozenset(MODAL_BLOCKED)
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        # The tabs show 1-6; the footer keeps to what fits in 80 columns.
        Binding("1", "show('orders')", "Orders", show=False),
        Binding("2", "show('inventory')", "Inventory", show=False),
        Binding("3", "show('robots')", "Robots", show=False),
        Binding("4", "show('analytics')", "Analytics", show=False),
        Binding("5", "show('alerts')", "Alerts", show=False),
        Binding("6", "show('reports')", "Reports", show=False),
        Binding("r", "restock", "Restock"),
        Binding("s", "adjust", "Stock"),
        Binding("c", "command", "Stock command"),  # the box for plain words
        Binding("e", "edit_product", "Price"),
        Binding("n", "notifications", "Mail me", show=False),  # F1 and ctrl+p list it
        Binding("f", "filter", "Status"),
        Binding("k", "kind", "Kind"),
        Binding("f1,question_mark", "toggle_help", "Keys", key_display="F1"),
        Binding("q", "quit", "Quit"),
        # Textual only shows a hint on Ctrl-C; here it quits, as in any terminal program
        # (in a text field, Textual's own binding still copies).
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]

    def __init__(
        self,
        client: ApiClient | None = None,
        *,
        model: StoreModel | None = None,
        redraw_hz: float = 5.0,
        poll_interval: float = 1.0,
        sample_interval: float = 1.0,
        reports_every: float = REPORTS_EVERY,
        wall_clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        url: str = "",
        settings_path: Path | None = None,
    ) -> None:
        self.model: StoreModel = model or StoreModel()
        super().__init__(
            self.model,
            connected=client is None,
            url=client.url if client else url,
            redraw_hz=redraw_hz,
            settings_path=settings_path,
        )
        self.client = client
        self.poll_interval = poll_interval
        self.sample_interval = sample_interval
        self.reports_every = reports_every
        self.wall_clock = wall_clock
        self.backoff = backoff
        self._polls = 0
        self._polling = False
        self._in_chain = True  # until the store says it is in none (404): then never asked

    # --- layout ----------------------------------------------------------------------

    def panes(self) -> Iterable[Widget]:
        yield OrdersPanel(self.model, id="orders-panel")
        finder = self.client.find_stock if self.client is not None else None
        yield InventoryPanel(self.model, finder=finder, id="inventory-panel")
        yield RobotsPanel(self.model, self.wall_clock, id="robots-panel")
        yield AnalyticsPanel(self.model, id="analytics-panel")
        yield AlertsPanel(self.model, id="alerts-panel")
        yield ReportsPanel(
            self.model, self.client, self.wall_clock, every=self.reports_every, id="reports-panel"
        )

    def on_mount(self) -> None:
        self.set_interval(self.sample_interval, self.model.sample)
        if self.client is not None:
            self.follow()
            self.set_interval(self.poll_interval, self.poll)

    def status(self) -> Text:
        return status_line(self.model, self.link)

    def tab_labels(self) -> dict[str, str]:
        return tab_labels(self.model)

    def followed(self) -> None:
        if isinstance(self.screen, OrderScreen | AdjustScreen):  # they follow the events
            self.screen.follow()

    def timing_figures(self) -> dict[str, float]:
        return {"events": float(self.model.events)}

    # --- I/O -------------------------------------------------------------------------

    @work(exclusive=True, group="feed")
    async def follow(self) -> None:
        if self.client is None:
            return
        feed = Feed(
            self.client,
            self.model.load,
            self.model.apply,
            lambda link: self.post_message(LinkChanged(link)),
            self.backoff,
        )
        await feed.run()

    @work(exclusive=True, group="poll")
    async def poll(self) -> None:
        """What events do not carry: robots' last seen, the store's analytics; and now
        and then a full re-read of inventory and alerts (events dropped under load)."""
        if self.client is None or not self.link.connected or self._polling:
            return
        self._polling = True
        self._polls += 1
        try:
            self.model.set_robots(await self.client.robots())
            with contextlib.suppress(ApiError):  # 503 while analytics restarts
                self.model.set_analytics(await self.client.analytics())
            if self._in_chain:
                self.model.chain = await self.client.chain()
                self._in_chain = self.model.chain is not None
            if self._polls % (RECONCILE_EVERY * self._reconcile_scale()) == 0:
                for item in await self.client.inventory():
                    self.model.put_stock(item)
                self.model.set_alerts(await self.client.alerts())
            if self._polls % RECONCILE_EVERY == 1:
                webhooks = await self.client.webhooks()
                for panel in self.main.query(AlertsPanel):  # none while the app closes
                    panel.show_webhooks(webhooks)
        except (ApiError, Disconnected):
            pass  # the feed notices a lost store and shows the banner
        finally:
            self._polling = False

    def _reconcile_scale(self) -> int:
        return max(1, len(self.model.inventory) // RECONCILE_SKUS)

    @work(exclusive=True, group="orders")
    async def fetch_orders(self, status: str | None, kind: str | None) -> None:
        """What the store holds for a filter, beyond what the live events brought."""
        if self.client is None:
            return
        try:
            if kind in (None, "CUSTOMER"):
                self.model.merge_orders(await self.client.orders(status=status, limit=200))
            if kind in (None, "RESTOCK"):
                self.model.merge_orders(await self.client.restocks(status=status, limit=200))
        except (ApiError, Disconnected) as exc:
            self.notify(str(exc), title="orders", severity="error")

    @on(OrdersPanel.FilterChanged)
    def _filter_changed(self, message: OrdersPanel.FilterChanged) -> None:
        self.fetch_orders(message.status, message.kind)

    @on(OrdersPanel.Open)
    def _open_order(self, message: OrdersPanel.Open) -> None:
        self.push_screen(OrderScreen(self.client, message.order_id, message.kind, self.model))

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        self.notify(message.what, title="done")

    # --- actions ---------------------------------------------------------------------

    def action_filter(self) -> None:
        self.action_show("orders")
        self.main.query_one("#orders-panel", OrdersPanel).cycle_filter()

    def action_kind(self) -> None:
        self.action_show("orders")
        self.main.query_one("#orders-panel", OrdersPanel).cycle_kind()

    def _selected_sku(self) -> str | None:
        if self.active == "alerts":
            return self.main.query_one("#alerts-panel", AlertsPanel).selected_sku
        if self.active == "inventory":
            return self.main.query_one("#inventory-panel", InventoryPanel).selected_sku
        return None

    def action_restock(self) -> None:
        self.push_screen(RestockScreen(self.client, self.model))

    def action_adjust(self) -> None:
        self.push_screen(AdjustScreen(self.client, self.model, self._selected_sku()))

    def action_command(self) -> None:
        self.push_screen(CommandScreen(self.client))

    def action_edit_product(self) -> None:
        self.push_screen(ProductScreen(self.client, self.model, self._selected_sku()))

    def action_notifications(self) -> None:
        self.push_screen(NotificationsScreen(self.client, self.model))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from commands(self)

    def show_waste_over(self, days: int) -> None:
        self.action_show("reports")
        self.main.query_one("#reports-panel", ReportsPanel).show_waste_over(days)

    def set_select(self, select: str, value: str | None) -> None:
        """Choose an orders filter (`#kind-filter`, `#status-filter`); None is all."""
        self.action_show("orders")
        panel = self.main.query_one("#orders-panel", OrdersPanel)
        panel.query_one(select, Select).value = value or "ALL"

"""The operators' dashboard: orders, inventory, robots, analytics and alerts of one store,
live over its HTTP API and `/api/events` WebSocket.

Events only update `StoreModel`; a timer redraws the visible panel when it is dirty,
`redraw_hz` times a second at most, so the cost of drawing does not grow with the
event rate. All I/O runs in async workers on the app's loop (no threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Select, Static, TabbedContent, TabPane

from autogrocery.tui import settings
from autogrocery.tui.client import ApiClient, ApiError, Disconnected
from autogrocery.tui.commands import commands
from autogrocery.tui.feed import Backoff, Feed, Link
from autogrocery.tui.format import plural
from autogrocery.tui.messages import LinkChanged, StoreChanged
from autogrocery.tui.model import PANELS, REPORTS_EVERY, StoreModel
from autogrocery.tui.screens.actions import AdjustScreen, ProductScreen, RestockScreen
from autogrocery.tui.screens.command import CommandScreen
from autogrocery.tui.screens.order import OrderScreen
from autogrocery.tui.timing import RedrawTimes
from autogrocery.tui.widgets.alerts import AlertsPanel
from autogrocery.tui.widgets.analytics import AnalyticsPanel
from autogrocery.tui.widgets.inventory import InventoryPanel
from autogrocery.tui.widgets.orders import OrdersPanel
from autogrocery.tui.widgets.reports import ReportsPanel
from autogrocery.tui.widgets.robots import RobotsPanel
from autogrocery.tui.widgets.table import LiveTable
from autogrocery.tui.widgets.text import show

log = logging.getLogger(__name__)

Panel = OrdersPanel | InventoryPanel | RobotsPanel | AnalyticsPanel | AlertsPanel | ReportsPanel
TITLES = {
    "orders": "1 Orders",
    "inventory": "2 Inventory",
    "robots": "3 Robots",
    "analytics": "4 Analytics",
    "alerts": "5 Alerts",
    "reports": "6 Reports",
}
RECONCILE_EVERY = 10  # polls between full re-reads of inventory and alerts
TIMING_LOG_INTERVAL = 60.0  # seconds between log lines on redraw times
MODAL_BLOCKED = {"restock", "adjust", "command", "edit_product", "show", "filter", "kind"}


class DashboardApp(App[None]):
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")  # also for subclasses elsewhere
    TITLE = "autogrocery"
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
        Binding("c", "command", "Say", show=False),  # in F1 and the palette (ctrl+p)
        Binding("e", "edit_product", "Price"),
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
        super().__init__()
        self.settings_path = settings_path
        self.chosen = settings.load(settings_path)
        if (
            isinstance(self.chosen.get("theme"), str)
            and self.chosen["theme"] in self.available_themes
        ):
            self.theme = self.chosen["theme"]
        self.client = client
        self.model = model or StoreModel()
        self.redraw_hz = redraw_hz
        self.poll_interval = poll_interval
        self.sample_interval = sample_interval
        self.reports_every = reports_every
        self.wall_clock = wall_clock
        self.backoff = backoff
        self.link = Link(False, "connecting") if client else Link(True)
        self.url = client.url if client else url
        self.sub_title = self.url or "fixed data"
        self.redraws = 0
        self.timing = RedrawTimes()
        self._polls = 0
        self._polling = False
        self._labels: dict[str, str] = {}

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="banner")
        with TabbedContent(initial="orders", id="tabs"):
            with TabPane(TITLES["orders"], id="orders"):
                yield OrdersPanel(self.model, id="orders-panel")
            with TabPane(TITLES["inventory"], id="inventory"):
                yield InventoryPanel(self.model, id="inventory-panel")
            with TabPane(TITLES["robots"], id="robots"):
                yield RobotsPanel(self.model, self.wall_clock, id="robots-panel")
            with TabPane(TITLES["analytics"], id="analytics"):
                yield AnalyticsPanel(self.model, id="analytics-panel")
            with TabPane(TITLES["alerts"], id="alerts"):
                yield AlertsPanel(self.model, id="alerts-panel")
            with TabPane(TITLES["reports"], id="reports"):
                yield ReportsPanel(
                    self.model,
                    self.client,
                    self.wall_clock,
                    every=self.reports_every,
                    id="reports-panel",
                )
        yield Static("", id="status")
        yield Footer()

    @property
    def main(self) -> Screen[Any]:
        """The dashboard's own screen (queries must not look into a form on top)."""
        return self.screen_stack[0]

    def on_mount(self) -> None:
        self.set_interval(1 / self.redraw_hz, self.redraw)
        self.set_interval(self.sample_interval, self.model.sample)
        self.set_interval(TIMING_LOG_INTERVAL, self._log_timing)
        self.watch(self, "theme", self._theme_chosen, init=False)
        self.show_link(self.link)
        if self.client is not None:
            self.follow()
            self.set_interval(self.poll_interval, self.poll)
        self.call_after_refresh(self.redraw)
        self.call_after_refresh(self._focus_table)

    def panel(self, name: str) -> Panel:
        return cast(Panel, self.main.query_one(f"#{name}-panel"))

    @property
    def active(self) -> str:
        return self.main.query_one("#tabs", TabbedContent).active or "orders"

    # --- drawing ---------------------------------------------------------------------

    def _on_screen(self) -> bool:
        """False while the app starts or shuts down: the dashboard's widgets are not there,
        though the feed's messages may still arrive."""
        if not (self.is_running and self.screen_stack):
            return False
        try:
            self.main.get_child_by_id("status")
        except NoMatches:
            return False
        return True

    def redraw(self, force: bool = False) -> None:
        """Draw the visible panel if anything it shows changed since its last draw."""
        if not self._on_screen():
            return
        name = self.active
        if force or name in self.model.dirty:
            started = time.perf_counter()
            self.model.dirty.discard(name)
            self.panel(name).refresh_from(self.model)
            self.redraws += 1
            self.timing.add_update(time.perf_counter() - started)
            self.call_after_refresh(lambda: self.timing.add_painted(time.perf_counter() - started))
        self._status_line()

    def on_unmount(self) -> None:
        self._log_timing()  # what the last minute's line has not said yet

    def _log_timing(self) -> None:
        figures = self.timing.summary() | {"events": float(self.model.events)}
        if figures["redraws"]:
            log.info(
                "dashboard redraws since the last report: %d; update p50 %.1f ms, p99 %.1f ms, "
                "max %.1f ms; on screen p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                figures["redraws"],
                figures["update_p50_ms"],
                figures["update_p99_ms"],
                figures["update_max_ms"],
                figures["painted_p50_ms"],
                figures["painted_p99_ms"],
                figures["painted_max_ms"],
                extra={"redraw": figures},
            )

    def _status_line(self) -> None:
        model = self.model
        offline = len(model.offline_robots())
        labels = {
            "robots": f"3 Robots ✖{offline}" if offline else TITLES["robots"],
            "alerts": f"5 Alerts ({len(model.alerts)})" if model.alerts else TITLES["alerts"],
            "reports": f"6 Reports ⚠{len(model.expiry_alerts)}"
            if model.expiry_alerts
            else TITLES["reports"],
        }
        tabs = self.main.query_one("#tabs", TabbedContent)
        for pane, label in labels.items():
            if self._labels.get(pane) != label:
                self._labels[pane] = label
                tabs.get_tab(pane).label = label
        dot = ("● live", "green") if self.link.connected else ("● disconnected", "bold red")
        counts = model.store_counts()
        held = (
            f"{plural(counts['customer'], 'order')} · {plural(counts['restock'], 'restock')}"
            if counts is not None
            else "counting orders…"
        )
        robots = f"{len(model.robots) - offline}/{len(model.robots)} robots online"
        alerts = len(model.alerts)
        show(
            self.main.query_one("#status", Static),
            Text.assemble(
                dot,
                f" · {held} · ",
                (robots, "bold red") if offline else robots,
                " · ",
                (plural(alerts, "low-stock alert"), "yellow") if alerts else "no alerts",
            ),
        )

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.redraw(force=True)
        self._focus_table()

    def _focus_table(self) -> None:
        """Keys go to the visible panel's table (arrows move, Enter opens)."""
        if not self._on_screen():  # scheduled on mount, it may run once the widgets are gone
            return
        tables = self.panel(self.active).query(LiveTable)
        if tables:
            tables.first().focus()

    def show_link(self, link: Link) -> None:
        if not self._on_screen():
            return
        banner = self.main.query_one("#banner", Static)
        url = self.url
        if link.connected:
            banner.display = False
        elif link.attempt == 0:
            banner.update(Text(f"connecting to {url}…"))
            banner.display = True
            banner.set_class(False, "down")
        else:
            banner.update(
                Text(
                    f"⚠ DISCONNECTED from {url}: {link.reason}. Reconnecting "
                    f"(attempt {link.attempt}, next try in {link.retry_in:.1f} s); "
                    "the data below may be stale."
                )
            )
            banner.display = True
            banner.set_class(True, "down")
        self._status_line()

    @on(LinkChanged)
    def _link_changed(self, message: LinkChanged) -> None:
        self.link = message.link
        self.show_link(message.link)
        if message.link.connected:
            self.redraw(force=True)

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
            if self._polls % RECONCILE_EVERY == 0:
                for item in await self.client.inventory():
                    self.model.apply({"type": "stock.changed", "data": item})
                self.model.set_alerts(await self.client.alerts())
        except (ApiError, Disconnected):
            pass  # the feed notices a lost store and shows the banner
        finally:
            self._polling = False

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
        self.push_screen(OrderScreen(self.client, message.order_id, message.kind))

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        self.notify(message.what, title="done")

    # --- actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in MODAL_BLOCKED and isinstance(self.screen, ModalScreen))

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def _theme_chosen(self, theme: str) -> None:
        if self.settings_path is not None and self.chosen.get("theme") != theme:
            self.chosen["theme"] = theme
            self.run_worker(
                asyncio.to_thread(settings.save, self.settings_path, theme=theme),
                group="settings",
            )

    def action_show(self, name: str) -> None:
        if name in PANELS:
            self.main.query_one("#tabs", TabbedContent).active = name

    def action_filter(self) -> None:
        self.action_show("orders")
        self.main.query_one("#orders-panel", OrdersPanel).cycle_filter()

    def action_kind(self) -> None:
        self.action_show("orders")
        self.main.query_one("#orders-panel", OrdersPanel).cycle_kind()

    def _selected_sku(self) -> str | None:
        if self.active == "alerts":
            return self.main.query_one("#alerts-panel", AlertsPanel).table.current_key
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

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from commands(self)

    def set_select(self, select: str, value: str | None) -> None:
        """Choose an orders filter (`#kind-filter`, `#status-filter`); None is all."""
        self.action_show("orders")
        panel = self.main.query_one("#orders-panel", OrdersPanel)
        panel.query_one(select, Select).value = value or "ALL"

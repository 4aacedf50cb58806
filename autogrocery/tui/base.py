"""What the store's dashboard and the head office's have in common: the header, the
connection banner, tabs of panels (keys 1…n), the status line and the keys' footer;
the theme kept between runs; redrawing only the visible panel, and only when its
model says it changed (`model.dirty`), a few times a second at most; quitting cleanly
even while Textual is still mounting the panels.

A subclass names its panels (`PANELS`, `TITLES`), composes them (`panes()`), draws its
status line (`status()`) and the tab labels that carry a count (`tab_labels()`), and
does its own I/O in workers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar, cast

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Header, Static, TabbedContent, TabPane

from autogrocery.tui import settings
from autogrocery.tui.feed import Link
from autogrocery.tui.messages import LinkChanged
from autogrocery.tui.timing import RedrawTimes
from autogrocery.tui.widgets.footer import KeysFooter
from autogrocery.tui.widgets.table import LiveTable
from autogrocery.tui.widgets.text import show

TIMING_LOG_INTERVAL = 60.0  # seconds between log lines on redraw times


class Model(Protocol):
    dirty: set[str]  # the panels whose data changed since they were last drawn


M = TypeVar("M", bound=Model)  # the dashboard's model: a store's, a head office's
M_contra = TypeVar("M_contra", contravariant=True)


class Panel(Protocol[M_contra]):
    """What every panel widget does besides being one: draw itself from the model."""

    def refresh_from(self, model: M_contra) -> None: ...


class OperatorApp(App[None], Generic[M]):
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")  # also for subclasses elsewhere
    TITLE = "autogrocery"
    PANELS: ClassVar[tuple[str, ...]] = ()  # tab ids, in the order of keys 1…n
    TITLES: ClassVar[dict[str, str]] = {}  # tab id → its label ("1 Orders")
    MODAL_BLOCKED: ClassVar[frozenset[str]] = frozenset()  # actions a form on top blocks

    def __init__(
        self,
        model: M,
        *,
        connected: bool,
        url: str,
        redraw_hz: float = 5.0,
        settings_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings_path = settings_path
        self.chosen = settings.load(settings_path)
        theme = self.chosen.get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self.model = model
        self.redraw_hz = redraw_hz
        self.link = Link(True) if connected else Link(False, "connecting")
        self.url = url
        self.sub_title = url or "fixed data"
        self.redraws = 0
        self.timing = RedrawTimes()
        self._labels: dict[str, str] = {}
        self._field: str | None = None  # where keys go once the next panel shows
        self._up = False
        self._quit_when_ready = False

    # --- what a subclass says --------------------------------------------------------

    def panes(self) -> Iterable[Widget]:
        """The panel of each tab, in `PANELS` order, each with id `<tab>-panel`."""
        raise NotImplementedError

    def status(self) -> Text:
        """The status line."""
        raise NotImplementedError

    def tab_labels(self) -> dict[str, str]:
        """The labels of the tabs whose title carries a count."""
        return {}

    def followed(self) -> None:
        """After each redraw: a window on top that follows the model looks again."""

    def timing_figures(self) -> dict[str, float]:
        """What the redraw-times log line says besides the times."""
        return {}

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="•")  # in the web dashboard's font too (its ⭘ was an empty box)
        yield Static("", id="banner")
        with TabbedContent(initial=self.PANELS[0], id="tabs"):
            for name, panel in zip(self.PANELS, self.panes(), strict=True):
                with TabPane(self.TITLES[name], id=name):
                    yield panel
        yield Static("", id="status")
        yield KeysFooter()

    @property
    def main(self) -> Screen[object]:
        """The dashboard's own screen (queries must not look into a form on top)."""
        return self.screen_stack[0]

    def on_mount(self) -> None:
        self.set_interval(1 / self.redraw_hz, self.redraw)
        self.set_interval(TIMING_LOG_INTERVAL, self._log_timing)
        self.watch(self, "theme", self._theme_chosen, init=False)
        self.show_link(self.link)
        self.call_after_refresh(self.redraw)
        self.call_after_refresh(self._focus_table)

    def on_ready(self) -> None:
        self._up = True
        if self._quit_when_ready:
            self.exit()

    def quit_when_ready(self) -> None:
        """Exit now, or once the dashboard is up: told to exit while Textual mounts the
        panels, its tabs failed with a traceback (a Ctrl-C to `run` as it started)."""
        if self._up:
            self.exit()
        else:
            self._quit_when_ready = True

    def panel(self, name: str) -> Widget:
        """Tab `name`'s panel (`panes()` made it, each a `Panel` of this app's model)."""
        return self.main.query_one(f"#{name}-panel")

    @property
    def active(self) -> str:
        return self.main.query_one("#tabs", TabbedContent).active or self.PANELS[0]

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
            cast("Panel[M]", self.panel(name)).refresh_from(self.model)
            self.redraws += 1
            self.timing.add_update(time.perf_counter() - started)
            self.call_after_refresh(lambda: self.timing.add_painted(time.perf_counter() - started))
        self._status_line()
        self.followed()

    def on_unmount(self) -> None:
        self._log_timing()  # what the last minute's line has not said yet

    def _log_timing(self) -> None:
        figures = self.timing.summary() | self.timing_figures()
        if figures["redraws"]:  # logged as the app's module (autogrocery.tui.app, …)
            logging.getLogger(type(self).__module__).info(
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
        tabs = self.main.query_one("#tabs", TabbedContent)
        for pane, label in self.tab_labels().items():
            if self._labels.get(pane) != label:
                self._labels[pane] = label
                tabs.get_tab(pane).label = label
        show(self.main.query_one("#status", Static), self.status())

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.redraw(force=True)
        self._focus_table()

    def _focus_table(self) -> None:
        """Keys go to the visible panel's table (arrows move, Enter opens), or to the
        field `show_field` asked for."""
        if not self._on_screen():  # scheduled on mount, it may run once the widgets are gone
            return
        panel = self.panel(self.active)
        if self._field is not None:
            panel.query_one(self._field).focus()
            self._field = None
            return
        tables = [table for table in panel.query(LiveTable) if table.display]
        if tables:
            # Without scrolling: the panel opens at its top, the first table's title in
            # view (scrolled to the table, it showed or hid the title by how far the
            # table had filled when focus came).
            tables[0].focus(scroll_visible=False)

    def show_field(self, name: str, selector: str) -> None:
        """Show panel `name` with the keys going to its field `selector` (a text box)."""
        if self.active == name:
            self.panel(name).query_one(selector).focus()
        else:
            self._field = selector
            self.action_show(name)

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

    # --- actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MODAL_BLOCKED and isinstance(self.screen, ModalScreen))

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
        if name in self.PANELS:
            self.main.query_one("#tabs", TabbedContent).active = name

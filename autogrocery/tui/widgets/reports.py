"""Reports: lots that expire soon (expired ones marked), what to reorder, waste over a
period with its value at cost, and each SKU's usage over the last week.

Events do not carry these figures: the panel fetches them from the store while it is
shown, when it comes into view, soon after an event that changes what they count, and
every `every` seconds otherwise (`StoreModel.reports_due`). The answer goes into the
model, and the app's redraw timer draws it like any other panel."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Label, Select
from textual.worker import Worker

from autogrocery.client import ApiError, Disconnected
from autogrocery.contract.ops import (
    ExpiringLot,
    ReorderReport,
    ReorderSuggestion,
    SkuUsage,
    SkuWaste,
    UsageReport,
    WasteReport,
)
from autogrocery.domain.money import format_money, parse_money
from autogrocery.tui import format as fmt
from autogrocery.tui.client import ApiClient
from autogrocery.tui.model import REPORTS_EVERY, Reports, StoreModel
from autogrocery.tui.reports import PERIODS, USAGE_DAYS, daily, load_reports
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

CHECK_EVERY = 1.0  # seconds between looks at whether the reports are due
NAME = 24  # a product's name, whole for nearly every one of the catalog
# Narrower than this, two reports side by side would cut names and dates: the four go
# one under the other, each as wide as the terminal, and the panel scrolls.
SIDE_BY_SIDE = 120
COLUMNS = {  # each by priority when narrow: what to act on first, then the name
    "expiring": (
        Column("sku", "sku", 7),
        Column("name", "name", NAME, priority=2, least=6),
        Column("expires", "expires", 10, priority=3),
        Column("left", "left", 7),
        Column("on_hand", "on hand", 7, priority=1),
        Column("cost", "at cost", 9, priority=4),
    ),
    "reorder": (
        Column("sku", "sku", 7),
        Column("name", "name", NAME, priority=2, least=6),
        Column("available", "avail", 6, priority=3),
        Column("min_level", "min", 5, priority=4),
        Column("daily", "per day", 7, priority=3),
        Column("cover", "cover", 7, priority=1),
        Column("quantity", "order", 6),
    ),
    "waste": (
        Column("sku", "sku", 7),
        Column("name", "name", NAME, priority=1, least=6),
        Column("quantity", "qty", 6),
        Column("value", "at cost", 9),
    ),
    "usage": (
        Column("sku", "sku", 7),
        Column("name", "name", NAME, priority=2, least=6),
        Column("total", "total", 6),
        Column("daily", "per day", 7, priority=3),
        Column("days", f"{USAGE_DAYS} days", USAGE_DAYS, priority=1),
    ),
}


class ReportsPanel(Vertical):
    def __init__(
        self,
        model: StoreModel,
        client: ApiClient | None,
        wall_clock: Callable[[], float] = time.time,
        *,
        every: float = REPORTS_EVERY,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.client = client
        self.wall_clock = wall_clock
        self.every = every
        self.period = PERIODS[0]  # days of waste
        self._shown = False
        self._fetching: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("Waste over ", classes="toolbar-label")
            yield Select(
                [(f"last {days} days", days) for days in PERIODS],
                value=self.period,
                allow_blank=False,
                id="waste-period",
                compact=True,
            )
            yield Label("", id="reports-note", classes="toolbar-note")
        with Grid(id="reports-grid"):
            for key, columns in COLUMNS.items():
                with Vertical(classes="report"):
                    yield Label("", id=f"{key}-title", classes="report-title")
                    yield LiveTable(columns, id=f"{key}-table")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < SIDE_BY_SIDE, "narrow")

    def table(self, key: str) -> LiveTable:
        return self.query_one(f"#{key}-table", LiveTable)

    # --- fetching --------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(CHECK_EVERY, self._check)

    def on_show(self) -> None:
        self._shown = True
        self._check(shown=True)

    def on_hide(self) -> None:
        self._shown = False

    def _check(self, shown: bool = False) -> None:
        if not self._shown or self.client is None:
            return
        if self._fetching is not None and self._fetching.is_running:
            return
        if self.model.reports_due(shown=shown, every=self.every):
            self._fetching = self.fetch(self.client)

    @work(exclusive=True, group="reports")
    async def fetch(self, client: ApiClient) -> None:
        self.model.reports_asked()
        try:
            reports = await load_reports(client, self.period, self.wall_clock)
        except (ApiError, Disconnected) as exc:
            self.model.reports_failed(str(exc).splitlines()[0])
            return
        self.model.set_reports(reports)

    def show_waste_over(self, days: int) -> None:
        """The waste table over the last `days` days (one of `PERIODS`)."""
        self.query_one("#waste-period", Select).value = days

    @on(Select.Changed, "#waste-period")
    def _period(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.period:
            self.period = event.value
            if self.client is not None:
                self._fetching = self.fetch(self.client)  # cancels one under way
                show(self.query_one("#reports-note", Label), f"  fetching {self.period} days…")

    # --- drawing ---------------------------------------------------------------------

    def refresh_from(self, model: StoreModel) -> None:
        self._note(model)
        reports = model.reports
        if reports is None:
            return
        names = _names(model, reports)
        lots = sorted(reports.expiring, key=lambda lot: (lot.days_left or 0, lot.sku))
        self.table("expiring").sync([expiring_row(lot) for lot in lots])
        expired = sum(lot.expired for lot in lots)
        show(
            self.query_one("#expiring-title", Label),
            expiring_title(len(lots), expired, reports.within),
        )

        suggestions = reports.reorder.suggestions
        self.table("reorder").sync([reorder_row(s, names) for s in suggestions])
        show(self.query_one("#reorder-title", Label), reorder_title(reports.reorder))

        waste = sorted(reports.waste.skus, key=lambda w: (-cents(w.value), w.sku))
        self.table("waste").sync([waste_row(w, names) for w in waste])
        units = sum(w.quantity for w in waste)
        show(
            self.query_one("#waste-title", Label),
            Text.assemble(
                ("Waste: ", "bold"),
                (
                    f"{reports.waste.total_value} at cost",
                    "bold red" if units else "green",
                ),
                f", {fmt.plural(units, 'unit')}, {span(reports.waste)}",
            ),
        )

        usage = reports.usage
        used = sorted(usage.skus, key=lambda u: (-u.total, u.sku))
        self.table("usage").sync([usage_row(u, names, usage) for u in used])
        taken = sum(u.total for u in used)
        young = younger(usage, USAGE_DAYS)  # per day: over the store's age, not a week
        show(
            self.query_one("#usage-title", Label),
            Text.assemble(
                ("Usage: ", "bold"),
                f"{fmt.plural(taken, 'unit')} taken{f' in {young}' if young else ''}, "
                f"{span(usage)}",
            ),
        )

    def _note(self, model: StoreModel) -> None:
        note = self.query_one("#reports-note", Label)
        reports = model.reports
        at = time.strftime("%H:%M:%S", time.gmtime(reports.at)) if reports and reports.at else None
        if model.reports_error:
            shown = f" (figures of {at} UTC)" if at else ""
            show(note, Text(f"  ⚠ {model.reports_error}{shown}", style="bold red"))
        elif reports is None:
            show(note, "  waiting for the store…" if self.client else "  no store connection")
        else:
            today = reports.usage.to
            when = f"as of {at} UTC · " if at else ""
            show(note, f"  {when}the store's day {today}")


def span(report: UsageReport | WasteReport) -> str:
    return f"{report.from_} … {report.to}"


def younger(report: UsageReport | ReorderReport, period: int) -> str | None:
    """The store's age, as a report's per-day figures divide by it, when it is younger
    than the report's `period` days: `2 min`, `5 h`, `3.5 d`."""
    days = report.span_days
    if days >= period:
        return None
    if days < 1 / 24:
        return f"{max(1, round(days * 1440))} min"
    if days < 1:
        return f"{round(days * 24)} h"
    return f"{days:.1f} d"


def cents(value: object) -> int:
    try:
        return parse_money(value)
    except ValueError:
        return 0


def expiring_title(lots: int, expired: int, within: int) -> Text:
    if not lots:
        return Text(f"Nothing expires in {fmt.plural(within, 'day')}", style="green")
    text = Text.assemble(
        ("Expiring", "bold"), f" in {fmt.plural(within, 'day')}: {fmt.plural(lots, 'lot')}"
    )
    if expired:
        text.append(f", {expired} expired", style="bold red")
    return text


def reorder_title(report: ReorderReport) -> Text:
    """How many SKUs to order, and on what basis: days of usage, delivery lead time."""
    count = len(report.suggestions)
    days = report.usage_days
    used = younger(report, days)
    basis = f"({used or f'{days} d'} use, {report.lead_time_days} d lead)"
    if not count:
        return Text(f"Nothing to reorder {basis}", style="green")
    return Text.assemble(("Reorder", "bold"), f" {fmt.plural(count, 'SKU')} {basis}")


def left(lot: ExpiringLot) -> Text:
    days = lot.days_left
    if lot.expired:
        return Text("expired", style="bold white on red")
    if days is None:
        return Text("-")
    label = "today" if days == 0 else fmt.plural(days, "day")
    return Text(label, style="bold yellow" if days <= 1 else "yellow", justify="right")


def expiring_row(lot: ExpiringLot) -> Row:
    style = "bold red" if lot.expired else ""
    on_hand = lot.on_hand
    return (
        lot.lot_id,
        (
            Text(lot.sku, style=style),
            Text(lot.name, style=style),
            Text(lot.expiry_date or "-", style=style),
            left(lot),
            Text(str(on_hand), style=style, justify="right"),
            Text(format_money(on_hand * cents(lot.unit_cost)), justify="right"),
        ),
    )


def _names(model: StoreModel, reports: Reports) -> dict[str, str]:
    """The names of the SKUs the reports list (not of every SKU: a big store has 50,000)."""
    listed: list[ReorderSuggestion | SkuWaste | SkuUsage] = [
        *reports.reorder.suggestions,
        *reports.waste.skus,
        *reports.usage.skus,
    ]
    found = (model.inventory.get(entry.sku) for entry in listed)
    return {item.sku: item.name for item in found if item is not None}


def reorder_row(suggestion: ReorderSuggestion, names: dict[str, str]) -> Row:
    sku = suggestion.sku
    cover = suggestion.days_of_cover
    below = suggestion.available < suggestion.min_level
    return (
        sku,
        (
            sku,
            names.get(sku, ""),
            Text(str(suggestion.available), style="red" if below else "", justify="right"),
            Text(str(suggestion.min_level), justify="right"),
            Text(f"{suggestion.daily_usage:g}", justify="right"),
            Text("-" if cover is None else f"{cover:g} d", justify="right"),
            Text(str(suggestion.quantity), style="bold", justify="right"),
        ),
    )


def waste_row(waste: SkuWaste, names: dict[str, str]) -> Row:
    sku = waste.sku
    return (
        sku,
        (
            sku,
            names.get(sku, ""),
            Text(str(waste.quantity), justify="right"),
            Text(waste.value, style="red", justify="right"),
        ),
    )


def usage_row(entry: SkuUsage, names: dict[str, str], report: UsageReport) -> Row:
    sku = entry.sku
    days = daily(entry, report.from_, report.to)
    total = entry.total
    spread = report.span_days or len(days)  # the store's age, if younger
    return (
        sku,
        (
            sku,
            names.get(sku, ""),
            Text(str(total), justify="right"),
            Text(f"{total / max(spread, 1e-9):.1f}", justify="right"),
            Text(fmt.spark([float(d) for d in days], len(days)), style="cyan"),
        ),
    )

"""Sales and waste per store over days of the chain's time zone: completed customer
orders, their revenue, and the value of what was written off (at cost), with the
chain's total. The last 7 days by default; type the first and last day (YYYY-MM-DD)
and Enter for others (only the last: the 7 days to it; only the first: to today)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from autogrocery.contract.head_office import StoreSales
from autogrocery.domain.money import format_money, parse_money
from autogrocery.tui.chain.model import SALES_DAYS, ChainModel, parse_day
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

COLUMNS = (
    Column("store", "store", 20, least=10),
    Column("orders", "orders", 10),
    Column("revenue", "revenue", 14),
    Column("waste", "waste at cost", 14, priority=1),
)
TOTAL = "\x00total"  # the total row's key: no store id is this


class SalesPanel(Vertical):
    class Asked(Message):
        """Other days were asked for: fetch them now."""

    def __init__(self, model: ChainModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.problem = ""  # what is wrong with the days typed (nothing was asked)

    def compose(self) -> ComposeResult:
        first, last = self.model.sales_range
        with Horizontal(classes="toolbar"):
            yield Label("From ", classes="toolbar-label")
            yield Input(first or "", placeholder="YYYY-MM-DD", id="sales-from", compact=True)
            yield Label(" to ", classes="toolbar-label")
            yield Input(last or "", placeholder="YYYY-MM-DD", id="sales-to", compact=True)
            yield Label("", id="sales-note", classes="toolbar-note")
        yield Static("", id="sales-summary")
        yield LiveTable(COLUMNS, id="sales-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#sales-table", LiveTable)

    def refresh_from(self, model: ChainModel) -> None:
        report = model.sales
        stores = report.stores if report is not None else []
        rows = [row(s) for s in stores]
        if rows:
            rows.append(total(stores))
        self.table.sync(rows)
        first, last = model.sales_range
        asked = (
            f"the last {SALES_DAYS} days"
            if first is None and last is None
            else f"{first or f'{SALES_DAYS} days before'} to {last or 'today'}"
        )
        show(self.query_one("#sales-note", Label), f"  {asked} · Enter asks")
        error = self.problem or model.errors.get("sales")
        if error:
            text = Text(error, style="bold red")
        elif report is None:
            text = Text("asking…", style="dim")
        else:
            text = Text.assemble(
                (f"{report.from_} to {report.to}", "bold"),
                (f"  ({report.time_zone}, both days included)", "dim"),
            )
        show(self.query_one("#sales-summary", Static), text)

    @on(Input.Submitted, "#sales-from, #sales-to")
    def _asked(self) -> None:
        first = self.query_one("#sales-from", Input).value.strip() or None
        last = self.query_one("#sales-to", Input).value.strip() or None
        problems = []
        for name, day in (("from", first), ("to", last)):
            if day is not None:
                try:
                    parse_day(day)
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
        if not problems and first and last and first > last:
            problems.append(f"from {first} is after to {last}")
        self.problem = "; ".join(problems)
        if problems:
            self.refresh_from(self.model)
            return
        self.model.ask_sales(first, last)
        self.refresh_from(self.model)
        self.post_message(self.Asked())
        self.table.focus()


def row(store: StoreSales) -> Row:
    return (
        store.store_id,
        (
            store.store_id,
            Text(f"{store.completed_orders:,}", justify="right"),
            Text(store.revenue, justify="right"),
            Text(store.waste_value, justify="right"),
        ),
    )


def total(stores: list[StoreSales]) -> Row:
    orders = sum(s.completed_orders for s in stores)
    revenue = sum(parse_money(s.revenue or "0") for s in stores)
    waste = sum(parse_money(s.waste_value or "0") for s in stores)
    return (
        TOTAL,
        (
            Text("all stores", style="bold"),
            Text(f"{orders:,}", justify="right", style="bold"),
            Text(format_money(revenue), justify="right", style="bold"),
            Text(format_money(waste), justify="right", style="bold"),
        ),
    )

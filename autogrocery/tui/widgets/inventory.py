"""Stock by aisle: on hand, reserved, available, min level, price and a sparkline of
recent availability per SKU, drawn against zero; low-stock rows in red. The highlighted
SKU's history is drawn large below the table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select

from autogrocery.tui import format as fmt
from autogrocery.tui.model import StoreModel
from autogrocery.tui.widgets.chart import Chart
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

TREND = 20
COLUMNS = (  # by priority when narrow: the numbers first, then the name (narrowed), …
    Column("sku", "sku", 9),
    Column("name", "name", 24, priority=3, least=10),
    Column("aisle", "aisle", 8, priority=5),
    Column("on_hand", "on hand", 8, priority=1),
    Column("reserved", "reserved", 8, priority=2),
    Column("available", "available", 9),
    Column("min_level", "min", 5, priority=1),
    Column("price", "price", 8, priority=2),
    Column("trend", "available, last 20 s", TREND, priority=4, least=8),
)
ALL = "ALL"


class InventoryPanel(Vertical):
    def __init__(self, model: StoreModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.aisle: str | None = None
        self._aisles: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("Aisle ", classes="toolbar-label")
            yield Select(
                [("all aisles", ALL)], value=ALL, allow_blank=False, id="aisle-filter", compact=True
            )
            yield Label("", id="inventory-count", classes="toolbar-note")
        yield LiveTable(COLUMNS, id="inventory-table")
        yield Label("", id="stock-title")
        yield Chart(id="stock-chart")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#inventory-table", LiveTable)

    @property
    def selected_sku(self) -> str | None:
        return self.table.current_key

    def refresh_from(self, model: StoreModel) -> None:
        aisles = tuple(sorted({str(i.get("aisle")) for i in model.inventory.values()}))
        if aisles != self._aisles:
            self._aisles = aisles
            select = self.query_one("#aisle-filter", Select)
            select.set_options([("all aisles", ALL), *((a, a) for a in aisles)])
            select.value = self.aisle if self.aisle in aisles else ALL
        items = sorted(
            (i for i in model.inventory.values() if self.aisle in (None, i.get("aisle"))),
            key=lambda i: (str(i.get("aisle")), str(i.get("sku"))),
        )
        self.table.sync([row(item, model) for item in items])
        low = sum(model.low_stock(i) for i in model.inventory.values())
        note = f"  {len(items)} SKUs · {low} below min level" if low else f"  {len(items)} SKUs"
        show(self.query_one("#inventory-count", Label), note)
        self._chart(model)

    def _chart(self, model: StoreModel) -> None:
        sku = self.selected_sku
        item = model.inventory.get(sku or "")
        title = self.query_one("#stock-title", Label)
        chart = self.query_one("#stock-chart", Chart)
        if item is None:
            show(title, "")
            chart.data = []
            return
        history = list(model.stock_history.get(str(sku), ()))
        span = f"{min(history)}-{max(history)}" if history else "-"
        show(
            title,
            Text(
                f"{sku} {item.get('name', '')}: available {item.get('available')}, "
                f"min level {item.get('min_level')}; over the last {len(history)} s: {span} "
                "(bars from 0)",
            ),
        )
        chart.data = [float(v) for v in history]

    @on(Select.Changed, "#aisle-filter")
    def _filter(self, event: Select.Changed) -> None:
        aisle = None if event.value in (ALL, Select.NULL) else str(event.value)
        if aisle != self.aisle:
            self.aisle = aisle
            self.refresh_from(self.model)

    @on(LiveTable.RowHighlighted, "#inventory-table")
    def _highlight(self, _: LiveTable.RowHighlighted) -> None:
        self._chart(self.model)


def row(item: dict[str, Any], model: StoreModel) -> Row:
    low = model.low_stock(item)
    style = "bold red" if low else ""
    sku = str(item.get("sku"))

    def num(key: str) -> Text:
        return Text(str(item.get(key, "-")), style=style, justify="right")

    history = model.stock_history.get(sku, ())
    return (
        sku,
        (
            Text(("▼ " if low else "") + sku, style=style) if low else sku,
            Text(str(item.get("name", "")), style=style),
            Text(str(item.get("aisle", "")), style=style),
            num("on_hand"),
            num("reserved"),
            Text(
                str(item.get("available", "-")),
                style="bold white on red" if low else "",
                justify="right",
            ),
            num("min_level"),
            num("price"),
            Text(fmt.spark(list(history), TREND), style="red" if low else "cyan"),
        ),
    )

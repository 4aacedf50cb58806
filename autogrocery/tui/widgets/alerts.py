"""Open low-stock alerts (available below min level), oldest first."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from autogrocery.tui import format as fmt
from autogrocery.tui.model import StoreModel
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

COLUMNS = (  # by priority when narrow: sku, levels, name (narrowed), raised at, aisle
    Column("sku", "sku", 9),
    Column("name", "name", 26, priority=1, least=12),
    Column("aisle", "aisle", 9, priority=3),
    Column("available", "available", 9),
    Column("min_level", "min level", 9),
    Column("raised", "raised at", 10, priority=2),
)


class AlertsPanel(Vertical):
    def __init__(self, model: StoreModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    def compose(self) -> ComposeResult:
        yield Static("", id="alerts-summary")
        yield LiveTable(COLUMNS, id="alerts-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#alerts-table", LiveTable)

    def refresh_from(self, model: StoreModel) -> None:
        alerts = sorted(model.alerts.values(), key=lambda a: (str(a.get("raised_at")), a["sku"]))
        self.table.sync([row(alert, model) for alert in alerts])
        summary = self.query_one("#alerts-summary", Static)
        if alerts:
            show(
                summary,
                Text(f"⚠ {len(alerts)} SKU(s) below their min level: press r to restock", "yellow"),
            )
        else:
            show(summary, Text("No open low-stock alerts.", style="green"))


def row(alert: dict[str, Any], model: StoreModel) -> Row:
    sku = alert["sku"]
    live = model.inventory.get(sku, {})
    available = live.get("available", alert.get("available"))
    return (
        sku,
        (
            sku,
            str(alert.get("name", "")),
            str(alert.get("aisle", "")),
            Text(str(available), style="bold red", justify="right"),
            Text(str(live.get("min_level", alert.get("min_level"))), justify="right"),
            fmt.clock(alert.get("raised_at")),
        ),
    )

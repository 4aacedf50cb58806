"""Every open alert, oldest first: SKUs below their min level, and lots whose
best-before date is near (or past); and the webhooks whose deliveries failed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from autogrocery.contract.ops import Alert
from autogrocery.contract.webhooks import Webhook
from autogrocery.tui import format as fmt
from autogrocery.tui.model import StoreModel, alert_key, expiry_alert
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

COLUMNS = (  # by priority when narrow: what, sku, levels, raised at, name (narrowed), aisle
    Column("alert", "alert", 12),
    Column("sku", "sku", 9),
    Column("name", "name", 26, priority=2, least=12),
    Column("aisle", "aisle", 9, priority=3),
    Column("available", "available", 9),
    Column("min_level", "min level", 9),
    Column("raised", "raised at", 10, priority=1),
)


class AlertsPanel(Vertical):
    def __init__(self, model: StoreModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    def compose(self) -> ComposeResult:
        yield Static("", id="alerts-summary")
        yield Static("", id="alerts-webhooks")
        yield LiveTable(COLUMNS, id="alerts-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#alerts-table", LiveTable)

    @property
    def selected_sku(self) -> str | None:
        """The SKU of the alert under the cursor."""
        key = self.table.current_key
        alert = self.model.alerts.get(key) if key is not None else None
        return alert.sku if alert is not None else None

    def refresh_from(self, model: StoreModel) -> None:
        alerts = model.open_alerts()
        self.table.sync([row(alert, model) for alert in alerts])
        show(self.query_one("#alerts-summary", Static), summary(model))

    def show_webhooks(self, webhooks: list[Webhook]) -> None:
        """Polled: the webhooks with deliveries given up on (or none)."""
        said = failing(webhooks)
        line = self.query_one("#alerts-webhooks", Static)
        line.display = bool(said)
        show(line, said)


def failing(webhooks: list[Webhook]) -> Text:
    failed = [hook for hook in webhooks if hook.failed]
    if not failed:
        return Text("")
    said = "; ".join(
        f"{hook.description or hook.url}: {hook.failed:,} failed deliver"
        f"{'y' if hook.failed == 1 else 'ies'}"
        for hook in failed
    )
    return Text(f"✗ webhooks: {said} (GET /api/ops/webhooks/ID/deliveries)", "bold red")


def summary(model: StoreModel) -> Text:
    count = model.alert_count
    if not count:
        return Text("No open alerts.", style="green")
    low = len(model.low_stock_skus())
    parts = []
    if low:
        parts.append(f"{low} SKU(s) below their min level (r to restock)")
    if count - low:
        parts.append(f"{count - low} lot(s) near or past best-before (6 Reports)")
    return Text(f"⚠ {fmt.plural(count, 'open alert')}: {'; '.join(parts)}", "yellow")


def row(alert: Alert, model: StoreModel) -> Row:
    sku = alert.sku
    live = model.inventory.get(sku)
    available = live.available if live is not None else alert.available
    min_level = live.min_level if live is not None else alert.min_level
    if expiry_alert(alert):
        expiry = alert.expiry_date if isinstance(alert.expiry_date, str) else ""
        what = Text(f"expiry {expiry[5:]}", style="magenta")
    else:
        what = Text("low stock", style="yellow")
    return (
        alert_key(alert),
        (
            what,
            sku,
            alert.name,
            alert.aisle,
            Text(str(available), style="bold red", justify="right"),
            Text(str(min_level), justify="right"),
            fmt.clock(alert.raised_at),
        ),
    )

"""Live orders and restocks, newest first, filterable by kind and status; Enter opens one."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Select

from autogrocery.contract.orders import Order
from autogrocery.tui import format as fmt
from autogrocery.tui.model import KINDS, STATUSES, StoreModel, View, order_key
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

SHOWN = 100
COLUMNS = (  # by priority when narrow: id, status, total, items (narrowed), kind, …
    Column("id", "order", 24),
    Column("kind", "kind", 8, priority=3),
    Column("status", "status", 11),
    Column("items", "items", 34, priority=2, least=14),
    Column("total", "total", 10, priority=1),
    Column("latency", "latency", 10, priority=4),
    Column("created", "created", 9, priority=5),
)


class OrdersPanel(Vertical):
    class Open(Message):
        """The operator asked to see one order (or restock) in full."""

        def __init__(self, order_id: str, kind: str) -> None:
            super().__init__()
            self.order_id = order_id
            self.kind = kind

    class FilterChanged(Message):
        def __init__(self, status: str | None, kind: str | None) -> None:
            super().__init__()
            self.status = status
            self.kind = kind

    def __init__(self, model: StoreModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.status: str | None = None
        self.kind: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Select(
                [("orders+restocks", "ALL"), ("orders", "CUSTOMER"), ("restocks", "RESTOCK")],
                value="ALL",
                allow_blank=False,
                id="kind-filter",
                compact=True,
            )
            yield Select(
                [("any status", "ALL"), *((s.lower(), s) for s in STATUSES)],
                value="ALL",
                allow_blank=False,
                id="status-filter",
                compact=True,
            )
            yield Label("", id="orders-count", classes="toolbar-note")
        yield LiveTable(COLUMNS, id="orders-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#orders-table", LiveTable)

    def refresh_from(self, model: StoreModel) -> None:
        shown = model.recent_orders(self.status, SHOWN, self.kind)
        self.table.sync([row(view) for view in shown])
        show(self.query_one("#orders-count", Label), f"  {len(shown)} newest · Enter opens one")

    def cycle_filter(self) -> None:
        choices = [None, *STATUSES]
        following = choices[(choices.index(self.status) + 1) % len(choices)]
        self.query_one("#status-filter", Select).value = following or "ALL"

    def cycle_kind(self) -> None:
        choices = [None, *KINDS]
        following = choices[(choices.index(self.kind) + 1) % len(choices)]
        self.query_one("#kind-filter", Select).value = following or "ALL"

    @on(Select.Changed, "#status-filter, #kind-filter")
    def _filter(self, event: Select.Changed) -> None:
        value = None if event.value in ("ALL", Select.NULL) else str(event.value)
        status, kind = self.status, self.kind
        if event.select.id == "kind-filter":
            kind = value
        else:
            status = value
        if (status, kind) == (self.status, self.kind):
            return
        self.status, self.kind = status, kind
        self.refresh_from(self.model)
        self.post_message(self.FilterChanged(status, kind))

    @on(LiveTable.RowSelected, "#orders-table")
    def _open(self, event: LiveTable.RowSelected) -> None:
        view = self.model.find_order(event.key or "")
        if view is not None:
            self.post_message(self.Open(order_key(view), view.kind))


def row(view: View) -> Row:
    total = view.total if isinstance(view, Order) else view.total_cost
    return (
        order_key(view),
        (
            order_key(view),
            "order" if isinstance(view, Order) else Text("restock", style="magenta"),
            fmt.status(view.status),
            fmt.items(view.items, 34),
            Text(total or "-", justify="right"),
            Text(fmt.latency(view.latency_ms), justify="right"),
            fmt.clock(view.created_at),
        ),
    )

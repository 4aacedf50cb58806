"""One order (or restock) in full: its lines and its status history, read from the
store when the screen opens (GET /api/orders/{id} and …/history), and read again
whenever the live events move it on (a restock that completes while its window is
open shows COMPLETED there as in the table behind it). An order that is not done yet
can be cancelled from here (x): a preview, or one robots are picking."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from autogrocery.client import ApiError, Disconnected
from autogrocery.contract.orders import Order, OrderHistoryEntry
from autogrocery.tui import format as fmt
from autogrocery.tui.client import ApiClient
from autogrocery.tui.model import StoreModel, View
from autogrocery.tui.widgets.table import Column, LiveTable

LINES = (
    Column("sku", "sku", 9),
    Column("name", "name", 24),
    Column("aisle", "aisle", 9),
    Column("quantity", "qty", 5),
    Column("unit", "unit price", 10),
    Column("total", "line total", 10),
)
HISTORY = (Column("status", "status", 12), Column("at", "at", 26))


CANCELLABLE = ("PREVIEWED", "PROCESSING")


class OrderScreen(ModalScreen[None]):
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        Binding("escape", "close", "Close"),
        Binding("x", "cancel_order", "Cancel order"),
    ]

    def __init__(
        self,
        client: ApiClient | None,
        order_id: str,
        kind: str,
        model: StoreModel | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.order_id = order_id
        self.kind = kind
        self.model = model
        self._seen = self._state()  # the order as the live events last left it
        self._status = ""  # as the store last said

    def compose(self) -> ComposeResult:
        with Vertical(classes="form order"):
            what = "Restock" if self.kind == "RESTOCK" else "Order"
            yield Label(f"{what} {self.order_id}  (esc closes)", classes="form-title")
            yield Static("loading…", id="order-summary")
            yield Label("Lines", classes="section")
            yield LiveTable(LINES, id="order-lines")
            yield Label("History", classes="section")
            yield LiveTable(HISTORY, id="order-history")
            yield Static("", id="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel shows (and works) only for an order that is not done yet."""
        if action == "cancel_order":
            return self.kind != "RESTOCK" and self._status in CANCELLABLE
        return True

    @work(exclusive=True, group="order-cancel")
    async def action_cancel_order(self) -> None:
        if self.client is None:
            return
        error = self.query_one("#form-error", Static)
        try:
            await self.client.cancel_order(self.order_id)
        except (ApiError, Disconnected) as exc:
            error.update(Text(f"not cancelled: {exc}"))
            error.add_class("shown")
        else:
            error.remove_class("shown")
        self.load()

    def _state(self) -> tuple[object, ...] | None:
        view = self.model.find_order(self.order_id) if self.model is not None else None
        if view is None:
            return None
        return (view.status, view.completed_at)

    def follow(self) -> None:
        """Read the order again if an event moved it on since the last look (the app
        calls this on each redraw while the window is on top)."""
        state = self._state()
        if state != self._seen:
            self._seen = state
            self.load()

    @work(exclusive=True, group="order")
    async def load(self) -> None:
        if self.client is None:
            return
        error = self.query_one("#form-error", Static)
        try:
            if self.kind == "RESTOCK":
                restock = await self.client.restock(self.order_id)
                history = [OrderHistoryEntry("PROCESSING", restock.created_at)]
                if restock.completed_at:
                    history.append(OrderHistoryEntry(restock.status, restock.completed_at))
                view: View = restock
            else:
                view = await self.client.order(self.order_id)
                history = await self.client.history(self.order_id)
        except (ApiError, Disconnected) as exc:
            error.update(Text(str(exc)))
            error.add_class("shown")
            return
        self.show(view, history)

    def show(self, view: View, history: list[OrderHistoryEntry]) -> None:
        self._status = view.status
        self.refresh_bindings()
        if isinstance(view, Order):
            total = view.total
            reason = view.reason if isinstance(view.reason, str) else ""
            lines = [
                (ln.sku, ln.name, ln.aisle, ln.quantity, ln.unit_price, ln.line_total)
                for ln in view.items
            ]
        else:
            total, reason = view.total_cost, ""
            lines = [
                (ln.sku, ln.name, ln.aisle, ln.quantity, ln.unit_cost, ln.line_total)
                for ln in view.items
            ]
        self.query_one("#order-summary", Static).update(
            Text.assemble(
                ("status ", "dim"),
                fmt.status(view.status),
                ("  total ", "dim"),
                total,
                ("  latency ", "dim"),
                fmt.latency(view.latency_ms),
                ("  created ", "dim"),
                view.created_at or "-",
                ("  completed ", "dim"),
                view.completed_at or "-",
                *((("  reason ", "dim"), reason) if reason else ()),
            )
        )
        self.query_one("#order-lines", LiveTable).sync(
            [
                (
                    sku,
                    (
                        sku,
                        name,
                        aisle,
                        Text(str(quantity), justify="right"),
                        Text(price, justify="right"),
                        Text(line_total, justify="right"),
                    ),
                )
                for sku, name, aisle, quantity, price, line_total in lines
            ]
        )
        self.query_one("#order-history", LiveTable).sync(
            [(f"{n}", (fmt.status(step.status), step.at or "-")) for n, step in enumerate(history)]
        )

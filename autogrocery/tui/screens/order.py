"""One order (or restock) in full: its lines and its status history, read from the
store when the screen opens (GET /api/orders/{id} and …/history), and read again
whenever the live events move it on (a restock that completes while its window is
open shows COMPLETED there as in the table behind it). An order that is not done yet
can be cancelled from here (x): a preview, or one robots are picking."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from autogrocery.client import ApiError, Disconnected
from autogrocery.tui import format as fmt
from autogrocery.tui.client import ApiClient
from autogrocery.tui.model import StoreModel
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
        return (view.get("status"), view.get("completed_at"))

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
                view = await self.client.restock(self.order_id)
                history = [
                    {"status": "PROCESSING", "at": view.get("created_at")},
                    *(
                        [{"status": view["status"], "at": view.get("completed_at")}]
                        if view.get("completed_at")
                        else []
                    ),
                ]
            else:
                view = await self.client.order(self.order_id)
                history = await self.client.history(self.order_id)
        except (ApiError, Disconnected) as exc:
            error.update(Text(str(exc)))
            error.add_class("shown")
            return
        self.show(view, history)

    def show(self, view: dict[str, Any], history: list[dict[str, Any]]) -> None:
        self._status = str(view.get("status"))
        self.refresh_bindings()
        restock = view.get("kind") == "RESTOCK"
        total = view.get("total_cost") if restock else view.get("total")
        self.query_one("#order-summary", Static).update(
            Text.assemble(
                ("status ", "dim"),
                fmt.status(str(view.get("status"))),
                ("  total ", "dim"),
                str(total),
                ("  latency ", "dim"),
                fmt.latency(view.get("latency_ms")),
                ("  created ", "dim"),
                str(view.get("created_at") or "-"),
                ("  completed ", "dim"),
                str(view.get("completed_at") or "-"),
                *((("  reason ", "dim"), str(view["reason"])) if view.get("reason") else ()),
            )
        )
        lines = view.get("items") or []
        self.query_one("#order-lines", LiveTable).sync(
            [
                (
                    str(line.get("sku")),
                    (
                        str(line.get("sku")),
                        str(line.get("name", "")),
                        str(line.get("aisle", "")),
                        Text(str(line.get("quantity")), justify="right"),
                        Text(str(line.get("unit_price") or line.get("unit_cost")), justify="right"),
                        Text(str(line.get("line_total")), justify="right"),
                    ),
                )
                for line in lines
            ]
        )
        self.query_one("#order-history", LiveTable).sync(
            [
                (f"{n}", (fmt.status(str(step.get("status"))), str(step.get("at") or "-")))
                for n, step in enumerate(history)
            ]
        )

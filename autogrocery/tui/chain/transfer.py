"""One transfer in full: from, to, its status and when it moved on, each line's
quantity requested, shipped and received, why it was REFUSED, and the SKUs received
otherwise than shipped. Read from the head office when the window opens and again at
each of the feed's polls while it is open, so it moves on by itself."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from autogrocery.client import ApiError, Disconnected
from autogrocery.contract.head_office import Transfer
from autogrocery.tui import format as fmt
from autogrocery.tui.chain.client import ChainClient
from autogrocery.tui.chain.model import ChainModel
from autogrocery.tui.widgets.table import Column, LiveTable

LINES = (
    Column("sku", "sku", 16),
    Column("requested", "requested", 10),
    Column("shipped", "shipped", 10),
    Column("received", "received", 10),
)


class TransferScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close")]  # noqa: RUF012 (textual's own idiom)

    def __init__(
        self, client: ChainClient | None, transfer_id: str, model: ChainModel | None = None
    ) -> None:
        super().__init__()
        self.client = client
        self.transfer_id = transfer_id
        self.model = model
        self.view: Transfer | None = None  # as the head office last said
        self._polls = model.polls if model else 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="form order"):
            yield Label(f"Transfer {self.transfer_id}  (esc closes)", classes="form-title")
            yield Static("loading…", id="transfer-summary")
            yield Label("Lines", classes="section")
            yield LiveTable(LINES, id="transfer-lines")
            yield Static("", id="transfer-discrepancy")
            yield Static("", id="form-error")
        yield Footer()

    def on_mount(self) -> None:
        known = self.model.find_transfer(self.transfer_id) if self.model else None
        if known is not None:
            self.show(known)  # what the list had, until the head office answers
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    def follow(self) -> None:
        """Read it again after each poll of the feed (the app calls this on each redraw
        while the window is on top)."""
        if self.model is not None and self.model.polls != self._polls:
            self._polls = self.model.polls
            self.load()

    @work(exclusive=True, group="transfer")
    async def load(self) -> None:
        if self.client is None:
            return
        error = self.query_one("#form-error", Static)
        try:
            view = await self.client.transfer(self.transfer_id)
        except (ApiError, Disconnected) as exc:
            error.update(Text(str(exc)))
            error.add_class("shown")
            return
        error.remove_class("shown")
        self.show(view)

    def show(self, view: Transfer) -> None:
        self.view = view
        steps: list[Text | str | tuple[str, str]] = []
        moved = (
            ("requested", view.requested_at),
            ("shipped", view.shipped_at),
            ("received", view.received_at),
        )
        for name, at in moved:
            if at:
                steps += [(f"  {name} ", "dim"), at]
        self.query_one("#transfer-summary", Static).update(
            Text.assemble(
                ("from ", "dim"),
                (view.from_store, "bold"),
                ("  to ", "dim"),
                (view.to_store, "bold"),
                ("  status ", "dim"),
                fmt.status(view.status),
                *steps,
                *((("\nrefused: ", "bold red"), view.reason) if view.reason else ()),
            )
        )
        self.query_one("#transfer-lines", LiveTable).sync(
            [
                (
                    line.sku,
                    (
                        line.sku,
                        Text(count(line.requested), justify="right"),
                        Text(count(line.shipped), justify="right"),
                        Text(count(line.received), justify="right"),
                    ),
                )
                for line in view.items
            ]
        )
        discrepancy = view.discrepancy or []
        shown = self.query_one("#transfer-discrepancy", Static)
        shown.update(
            Text(
                "discrepancy: "
                + "; ".join(
                    f"{d.sku} shipped {d.shipped}, received {d.received}" for d in discrepancy
                ),
                style="bold yellow",
            )
            if discrepancy
            else ""
        )


def count(value: object) -> str:
    return "-" if value is None else str(value)

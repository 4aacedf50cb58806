"""Transfers between the chain's stores, newest first, of one status or all: from, to,
status, the items, when requested; a REFUSED one says why, a RECEIVED one with a
discrepancy says so. Enter opens one; `t` requests a new one."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Select

from autogrocery.contract.head_office import Transfer
from autogrocery.tui import format as fmt
from autogrocery.tui.chain.model import TRANSFER_STATUSES, ChainModel
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

COLUMNS = (  # by priority when narrow: id, status, from, to, note, items, requested
    Column("id", "transfer", 28, least=12),
    Column("from", "from", 10, priority=1),
    Column("to", "to", 10, priority=1),
    Column("status", "status", 10),
    Column("items", "items", 30, priority=3, least=12),
    Column("requested", "requested", 9, priority=4),
    Column("note", "note", 30, priority=2, least=10),
)


class TransfersPanel(Vertical):
    class Open(Message):
        """The operator asked to see one transfer in full."""

        def __init__(self, transfer_id: str) -> None:
            super().__init__()
            self.transfer_id = transfer_id

    class FilterChanged(Message):
        """Another status was chosen: fetch its transfers now."""

    def __init__(self, model: ChainModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Select(
                [("any status", "ALL"), *((s.lower(), s) for s in TRANSFER_STATUSES)],
                value="ALL",
                allow_blank=False,
                id="transfer-status",
                compact=True,
            )
            yield Label("", id="transfers-note", classes="toolbar-note")
        yield LiveTable(COLUMNS, id="transfers-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#transfers-table", LiveTable)

    def refresh_from(self, model: ChainModel) -> None:
        self.table.sync([row(t) for t in model.transfers])
        error = model.errors.get("transfers")
        count = f"{len(model.transfers)}{' newest' if model.transfers_more else ''}"
        note = f"  {count} · Enter opens one · t requests one"
        show(
            self.query_one("#transfers-note", Label),
            Text(f"  {error}", style="bold red") if error else note,
        )

    def cycle_filter(self) -> None:
        choices = [None, *TRANSFER_STATUSES]
        status = self.model.transfer_status
        following = choices[(choices.index(status) + 1) % len(choices)]
        self.query_one("#transfer-status", Select).value = following or "ALL"

    @on(Select.Changed, "#transfer-status")
    def _filter(self, event: Select.Changed) -> None:
        status = None if event.value in ("ALL", Select.NULL) else str(event.value)
        if status != self.model.transfer_status:
            self.model.ask_transfers(status)
            self.refresh_from(self.model)
            self.post_message(self.FilterChanged())

    @on(LiveTable.RowSelected, "#transfers-table")
    def _open(self, event: LiveTable.RowSelected) -> None:
        if event.key:
            self.post_message(self.Open(event.key))


def note(transfer: Transfer) -> Text:
    if transfer.reason:
        return Text(transfer.reason, style="red")
    discrepancy = transfer.discrepancy or []
    if discrepancy:
        skus = ", ".join(d.sku for d in discrepancy)
        return Text(f"received ≠ shipped: {skus}", style="yellow")
    return Text("")


class Line(NamedTuple):
    sku: str
    quantity: int


def lines(transfer: Transfer) -> list[Line]:
    """The items as `fmt.items` writes order lines (quantity: as requested)."""
    return [Line(i.sku, i.requested) for i in transfer.items]


def row(transfer: Transfer) -> Row:
    return (
        transfer.transfer_id,
        (
            transfer.transfer_id,
            transfer.from_store,
            transfer.to_store,
            fmt.status(transfer.status),
            fmt.items(lines(transfer), 30),
            fmt.clock(transfer.requested_at),
            note(transfer),
        ),
    )

"""The chain's stores: status (up, down, never heard from), when the head office last
heard from each, how many of its events wait to be applied, the catalog version it
holds, and its units on hand. A store that is down is a red row, and the summary line
above names it; a store behind the newest catalog version shows its version in yellow."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from autogrocery.contract.head_office import StoreStatus
from autogrocery.tui import format as fmt
from autogrocery.tui.chain.model import ChainModel, store_status
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

COLUMNS = (  # by priority when narrow: store, status, lag, last seen, catalog, on hand
    Column("store", "store", 20, least=10),
    Column("status", "status", 8),
    Column("last_seen", "last seen", 18, priority=2),
    Column("lag", "lag (events)", 12, priority=1),
    Column("catalog", "catalog", 8, priority=3),
    Column("on_hand", "units on hand", 13, priority=4),
)


class StoresPanel(Vertical):
    def __init__(
        self, model: ChainModel, wall_clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.wall_clock = wall_clock

    def compose(self) -> ComposeResult:
        yield Static("", id="stores-summary")
        yield LiveTable(COLUMNS, id="stores-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#stores-table", LiveTable)

    def refresh_from(self, model: ChainModel) -> None:
        now, newest = self.wall_clock(), model.catalog_version
        self.table.sync([row(store, now, newest) for store in model.stores.values()])
        show(self.query_one("#stores-summary", Static), summary(model))
        self.query_one("#stores-summary", Static).set_class(bool(model.down()), "alarm")


def summary(model: ChainModel) -> Text:
    down, never, up = model.down(), model.never(), model.up()
    if not model.stores:
        return Text(
            "no store enrolled yet: `autogrocery central enroll STORE_ID`, then "
            "`autogrocery run --join STORE_ID.join` at the store",
            style="dim",
        )
    parts = [f"{len(up)} up"]
    if never:
        parts.append(f"never heard from: {', '.join(never)}")
    if down:
        return Text(
            f"✖ {len(down)} DOWN: {', '.join(down)}  ·  " + "  ·  ".join(parts),
            style="bold white on red",
        )
    if never:
        return Text("  ·  ".join(parts), style="yellow")
    return Text(f"✔ all {len(up)} stores up", style="green")


def row(store: StoreStatus, now: float, newest: int) -> Row:
    status = store_status(store)
    style = "bold red" if status == "down" else ""
    seen = store.last_seen
    version = store.catalog_version
    units = store.on_hand_units
    return (
        store.store_id,
        (
            Text(store.store_id, style=style),
            fmt.status(status),
            Text(f"{fmt.clock(seen)} {fmt.ago(seen, now)}" if seen else "never", style=style),
            Text(f"{store.lag_events:,}", justify="right", style=style),
            Text(f"v{version}", justify="right", style="yellow" if version < newest else style),
            Text("-" if units is None else f"{units:,}", justify="right", style=style),
        ),
    )

"""Stock across the chain: type a SKU and Enter to see it in every store that reported
it (on hand, reserved, and as of when: each store's last event applied), with its
total; leave it empty for every SKU, a page at a time (`]` next, `[` back), and Enter
on one of them to see it by store."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from autogrocery.contract.head_office import SkuStock, StoreStock
from autogrocery.tui import format as fmt
from autogrocery.tui.chain.model import ChainModel
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

BY_STORE = (
    Column("store", "store", 20, least=10),
    Column("on_hand", "on hand", 9),
    Column("reserved", "reserved", 9, priority=1),
    Column("available", "available", 9, priority=1),
    Column("as_of", "as of", 18, priority=2),
)
EVERY_SKU = (
    Column("sku", "sku", 12),
    Column("total", "on hand", 9),
    Column("stores", "stores", 6, priority=1),
    Column("by_store", "by store", 60, priority=2, least=12),
)


class StockPanel(Vertical):
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        Binding("right_square_bracket", "page(1)", "Next SKUs", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Previous SKUs", key_display="["),
    ]

    class Asked(Message):
        """The operator asked for another SKU or page: fetch it now."""

    def __init__(
        self, model: ChainModel, wall_clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.wall_clock = wall_clock

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("SKU ", classes="toolbar-label")
            yield Input(
                self.model.stock_sku or "",
                placeholder="BRD-001, Enter (empty: every SKU)",
                id="stock-sku",
                compact=True,
            )
            yield Label("", id="stock-note", classes="toolbar-note")
        yield Static("", id="stock-summary")
        yield LiveTable(BY_STORE, id="sku-stores-table")
        yield LiveTable(EVERY_SKU, id="stock-list-table")

    def table(self, which: str) -> LiveTable:
        return self.query_one(f"#{which}-table", LiveTable)

    def refresh_from(self, model: ChainModel) -> None:
        one = model.stock_sku is not None
        by_store, every = self.table("sku-stores"), self.table("stock-list")
        if by_store.display != one:
            by_store.display, every.display = one, not one
            (by_store if one else every).focus()
        summary = self.query_one("#stock-summary", Static)
        error = model.errors.get("stock")
        if one:
            found = model.stock
            stores = found.stores if found is not None else []
            by_store.sync([store_row(s, self.wall_clock()) for s in stores])
            note = "Enter with the SKU empty: every SKU"
            if error:
                text = Text(error, style="bold red")
            elif found is None:
                text = Text(f"asking for {model.stock_sku}…", style="dim")
            else:
                text = Text.assemble(
                    (found.sku, "bold"),
                    f": {found.total_on_hand:,} on hand in "
                    f"{len(stores)} store{'' if len(stores) == 1 else 's'}",
                    ("  (as each last reported)", "dim"),
                )
        else:
            every.sync([sku_row(item) for item in model.stock_items])
            page = len(model.stock_cursors)
            more = "  ] next page" if model.stock_next else ""
            back = "  [ previous" if page > 1 else ""
            note = f"page {page}{more}{back}  · Enter shows a SKU by store"
            text = (
                Text(error, style="bold red")
                if error
                else Text(f"{fmt.plural(len(model.stock_items), 'SKU')} on this page", style="dim")
            )
        show(summary, text)
        show(self.query_one("#stock-note", Label), f"  {note}")

    @on(Input.Submitted, "#stock-sku")
    def _asked(self, event: Input.Submitted) -> None:
        self.model.ask_stock(event.value)
        event.input.value = self.model.stock_sku or ""
        self.refresh_from(self.model)
        self.post_message(self.Asked())
        self.call_after_refresh(self._focus_shown)

    def _focus_shown(self) -> None:
        one = self.model.stock_sku is not None
        self.table("sku-stores" if one else "stock-list").focus()

    @on(LiveTable.RowSelected, "#stock-list-table")
    def _open(self, event: LiveTable.RowSelected) -> None:
        if event.key:
            self.ask(event.key)

    def ask(self, sku: str | None) -> None:
        """Show `sku` by store (None: every SKU), as if typed and entered."""
        self.query_one("#stock-sku", Input).value = sku or ""
        self.model.ask_stock(sku)
        self.refresh_from(self.model)
        self.post_message(self.Asked())

    def action_page(self, step: int) -> None:
        if self.model.page(step):
            self.refresh_from(self.model)
            self.post_message(self.Asked())


def store_row(store: StoreStock, now: float) -> Row:
    on_hand, reserved = store.on_hand, store.reserved
    as_of = store.as_of
    return (
        store.store_id,
        (
            store.store_id,
            Text(f"{on_hand:,}", justify="right"),
            Text(f"{reserved:,}", justify="right"),
            Text(f"{on_hand - reserved:,}", justify="right"),
            f"{fmt.clock(as_of)} {fmt.ago(as_of, now)}" if as_of else "-",
        ),
    )


def sku_row(item: SkuStock) -> Row:
    stores = item.stores
    return (
        item.sku,
        (
            item.sku,
            Text(f"{item.total_on_hand:,}", justify="right"),
            Text(str(len(stores)), justify="right"),
            " · ".join(f"{s.store_id} {s.on_hand:,}" for s in stores),
        ),
    )

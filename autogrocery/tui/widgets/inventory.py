"""Stock by aisle: on hand, reserved, available, min level, price and a sparkline of
recent availability per SKU, drawn against zero; low-stock rows in red. The highlighted
SKU's history is drawn large below the table.

A page of rows is drawn at a time (`]` next, `[` previous): a 50,000-SKU store draws 200
rows, not 50,000. The search box finds products as you type, through the store's own
search (`q`, the catalog's relevance), a moment after the last key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Label, Select

from autogrocery.contract.stock import InventoryItem
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
PAGE = 200  # rows drawn at once
SEARCH_DELAY = 0.3  # seconds after the last key before the store is asked
# The store's search: (words, aisle or None) -> its products, best match first.
Finder = Callable[[str, str | None], Awaitable[list[InventoryItem]]]


class InventoryPanel(Vertical):
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        # Not in the footer (80 columns are full): the toolbar says them, F1 lists them.
        Binding("right_square_bracket", "page(1)", "Next page", key_display="]", show=False),
        Binding("left_square_bracket", "page(-1)", "Previous page", key_display="[", show=False),
        Binding("slash", "search", "Search", key_display="/", show=False),
    ]

    def __init__(
        self, model: StoreModel, *, finder: Finder | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.finder = finder
        self.aisle: str | None = None
        self.start = 0  # the first row drawn, in shelf order
        self.words = ""  # what the search box says
        self.found: list[InventoryItem] | None = None  # the search's products; None: none
        self._aisles: tuple[str, ...] = ()
        self._aisles_of = -1  # len(inventory) when the aisles were listed
        self._order: list[tuple[str, str]] = []  # the aisle's (aisle, SKU)s, sorted
        self._order_of: tuple[int, str | None] = (-1, None)  # (len(inventory), aisle)
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("Aisle ", classes="toolbar-label")
            yield Select(
                [("all aisles", ALL)], value=ALL, allow_blank=False, id="aisle-filter", compact=True
            )
            yield Input(placeholder="/ search", id="inventory-search", compact=True)
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
        self._list_aisles(model)
        if self.found is not None:
            items = [model.inventory.get(i.sku, i) for i in self.found[:PAGE]]
            note = f"  {len(self.found)} found"
        else:
            order = self._in_order(model)
            last_page = max(0, (len(order) - 1) // PAGE * PAGE)
            self.start = min(self.start, last_page)
            items = [model.inventory[sku] for _, sku in order[self.start : self.start + PAGE]]
            note = f"  {len(order)} SKUs"
            if len(order) > PAGE:
                note = f"  {self.start + 1}-{self.start + len(items)} of {len(order)} SKUs ([ ])"
        self.table.sync([row(item, model) for item in items])
        low = len(model.low)
        show(
            self.query_one("#inventory-count", Label),
            f"{note} · {low} below min level" if low else note,
        )
        self._chart(model)

    def _list_aisles(self, model: StoreModel) -> None:
        if len(model.inventory) == self._aisles_of:
            return  # products are only added, and a new one may open an aisle
        self._aisles_of = len(model.inventory)
        aisles = tuple(sorted({i.aisle for i in model.inventory.values()}))
        if aisles != self._aisles:
            self._aisles = aisles
            select = self.query_one("#aisle-filter", Select)
            select.set_options([("all aisles", ALL), *((a, a) for a in aisles)])
            select.value = self.aisle if self.aisle in aisles else ALL

    def _in_order(self, model: StoreModel) -> list[tuple[str, str]]:
        """The aisle's SKUs by aisle and SKU: sorted again only when products are added
        or the aisle changes, not on every redraw."""
        key = (len(model.inventory), self.aisle)
        if key != self._order_of:
            self._order_of = key
            self._order = sorted(
                (i.aisle, i.sku) for i in model.inventory.values() if self.aisle in (None, i.aisle)
            )
        return self._order

    def action_page(self, step: int) -> None:
        if self.found is None:
            self.start = max(0, self.start + step * PAGE)
            self.refresh_from(self.model)

    def action_search(self) -> None:
        self.query_one("#inventory-search", Input).focus()

    @on(Input.Changed, "#inventory-search")
    def _typed(self, event: Input.Changed) -> None:
        self.words = event.value.strip()
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(SEARCH_DELAY, self._search)

    @on(Input.Submitted, "#inventory-search")
    def _to_table(self, _: Input.Submitted) -> None:
        self.table.focus()

    def _search(self) -> None:
        if not self.words:
            self.found = None
            self.refresh_from(self.model)
            return
        self.run_worker(self._find(self.words, self.aisle), exclusive=True, group="search")

    async def _find(self, words: str, aisle: str | None) -> None:
        if self.finder is None:  # no store to ask (fixed data): the names, as they are
            folded = words.casefold()
            found = [
                item
                for item in self.model.inventory.values()
                if aisle in (None, item.aisle) and folded in f"{item.sku} {item.name}".casefold()
            ]
        else:
            found = await self.finder(words, aisle)
        if words == self.words and aisle == self.aisle:  # not overtaken by more typing
            self.found = found
            self.refresh_from(self.model)

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
                f"{sku} {item.name}: available {item.available}, "
                f"min level {item.min_level}; over the last {len(history)} s: {span} "
                "(bars from 0)",
            ),
        )
        chart.data = [float(v) for v in history]

    @on(Select.Changed, "#aisle-filter")
    def _filter(self, event: Select.Changed) -> None:
        aisle = None if event.value in (ALL, Select.NULL) else str(event.value)
        if aisle != self.aisle:
            self.aisle = aisle
            self.start = 0
            if self.words:
                self._search()
            self.refresh_from(self.model)

    @on(LiveTable.RowHighlighted, "#inventory-table")
    def _highlight(self, _: LiveTable.RowHighlighted) -> None:
        self._chart(self.model)


def row(item: InventoryItem, model: StoreModel) -> Row:
    low = model.low_stock(item)
    style = "bold red" if low else ""
    sku = item.sku

    def num(value: object) -> Text:
        return Text(str(value), style=style, justify="right")

    history = model.stock_history.get(sku, ())
    return (
        sku,
        (
            Text(("▼ " if low else "") + sku, style=style) if low else sku,
            Text(item.name, style=style),
            Text(item.aisle, style=style),
            num(item.on_hand),
            num(item.reserved),
            Text(str(item.available), style="bold white on red" if low else "", justify="right"),
            num(item.min_level),
            num(item.price),
            Text(fmt.spark(list(history), TREND), style="red" if low else "cyan"),
        ),
    )

"""The operator's actions: a truck restock manifest, a stock adjustment with a reason,
and a new price or min level. Each shows, once done, what changed."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select, TextArea

from autogrocery.contract.stock import InventoryItem
from autogrocery.tui.client import ApiClient
from autogrocery.tui.forms import (
    MANIFEST_HELP,
    REASONS,
    BelowCost,
    check_money,
    check_whole,
    parse_adjust,
    parse_manifest,
    parse_product,
)
from autogrocery.tui.model import StoreModel
from autogrocery.tui.screens.form import Check, FormScreen, Send


def suggested_manifest(model: StoreModel) -> str:
    """A line for each SKU below its min level, bringing it to twice the min level."""
    lines = []
    for sku in model.low_stock_skus():
        item = model.inventory.get(sku)
        if item is None:
            continue
        want = max(10, 2 * item.min_level - item.available)
        lines.append(f"{sku} {min(want, 1000)}")
    return "\n".join(lines)


def change(before: object, after: object) -> str:
    return f"{before} → {after}" if before != after else f"{after} (unchanged)"


class RestockScreen(FormScreen[StoreModel]):
    heading = "Truck restock manifest"

    def fields(self) -> ComposeResult:
        who = self.client.truck_name if self.client else None
        yield Label(
            Text(
                f"{MANIFEST_HELP[0].upper()}{MANIFEST_HELP[1:]}.\n"
                "The unit cost (above 0) defaults to the current one."
            )
        )
        yield Label(
            f"Sent as truck {who}."
            if who
            else "Sent as a truck the dashboard creates on first use.",
            classes="hint",
        )
        yield TextArea(suggested_manifest(self.model), id="manifest", show_line_numbers=True)

    def on_mount(self) -> None:
        self.query_one("#manifest", TextArea).focus()

    def cleared(self) -> None:
        self.query_one("#manifest", TextArea).text = ""

    def prepare(self) -> Send:
        items = parse_manifest(self.query_one("#manifest", TextArea).text, self.model.inventory)

        async def send(client: ApiClient) -> str:
            receipt = await client.submit_restock(items)
            lines = ", ".join(f"{i['quantity']} {i['sku']} at {i['unit_cost']}" for i in items)
            return (
                f"restock {receipt.restock_id} {receipt.status}: {lines}; total cost "
                f"{receipt.total_cost}. Find it in Orders, kind restocks (k)."
            )

        return send


def levels_hint(item: InventoryItem | None) -> str:
    now = f" (now {item.on_hand} on hand, {item.reserved} reserved)" if item else ""
    return f"Change in on-hand units; negative takes stock away{now}"


class AdjustScreen(FormScreen[StoreModel]):
    """The hint above the change says the SKU's levels now: those of the SKU typed, those
    the store answered after an adjustment, and any the live events bring."""

    heading = "Adjust stock"

    def __init__(self, client: ApiClient | None, model: StoreModel, sku: str | None) -> None:
        super().__init__(client, model)
        self.sku = sku or ""
        self._seen = self._levels(self.sku)  # the model's, when the hint last took them

    def fields(self) -> ComposeResult:
        yield Label("SKU")
        yield Input(self.sku, placeholder="BRD-001", id="sku")
        yield Label(levels_hint(self.model.inventory.get(self.sku)), id="delta-hint")
        yield Input(placeholder="-3", id="delta")
        yield self.problem("delta")
        yield Label("Reason")
        yield Select([(r, r) for r in REASONS], value="WASTE", allow_blank=False, id="reason")
        yield Label("Note (optional)")
        yield Input(placeholder="dropped a crate", id="note")

    def checks(self) -> dict[str, Check]:
        return {"delta": lambda text: check_whole(text, "delta", low=-(10**7), high=10**7)}

    def on_mount(self) -> None:
        self.query_one("#delta" if self.sku else "#sku", Input).focus()

    def cleared(self) -> None:
        self.query_one("#delta", Input).value = ""

    def _levels(self, sku: str) -> tuple[int, int] | None:
        item = self.model.inventory.get(sku.strip().upper())
        return (item.on_hand, item.reserved) if item else None

    def _hint(self, item: InventoryItem | None) -> None:
        self.query_one("#delta-hint", Label).update(levels_hint(item))

    @on(Input.Changed, "#sku")
    def _sku_changed(self, event: Input.Changed) -> None:
        self.sku = event.value.strip().upper()
        self._seen = self._levels(self.sku)
        self._hint(self.model.inventory.get(self.sku))

    def follow(self) -> None:
        """The levels the live events brought, if they moved since the hint took them
        (the app calls this on each redraw while the form is on top)."""
        levels = self._levels(self.sku)
        if levels != self._seen:
            self._seen = levels
            self._hint(self.model.inventory.get(self.sku))

    def prepare(self) -> Send:
        sku, delta, reason, note = parse_adjust(
            self.query_one("#sku", Input).value,
            self.query_one("#delta", Input).value,
            self.query_one("#reason", Select).value,
            self.query_one("#note", Input).value,
            self.model.inventory,
        )
        before = self.model.inventory.get(sku)

        async def send(client: ApiClient) -> str:
            levels = await client.adjust_stock(sku, delta, reason, note)
            if sku == self.sku:  # the store's answer: before its event reaches the model
                self._hint(levels)
            return (
                f"{sku} {reason} {delta:+d}: on hand "
                f"{change(before and before.on_hand, levels.on_hand)}, available "
                f"{change(before and before.available, levels.available)}"
            )

        return send


class ProductScreen(FormScreen[StoreModel]):
    heading = "Change price or min level"

    def __init__(self, client: ApiClient | None, model: StoreModel, sku: str | None) -> None:
        super().__init__(client, model)
        self.sku = sku or ""
        self._confirmed_price: tuple[str, str] | None = None  # (sku, price) below cost, asked

    def fields(self) -> ComposeResult:
        item = self.model.inventory.get(self.sku)
        yield Label("SKU")
        yield Input(self.sku, placeholder="BRD-001", id="sku")
        cost = f", unit cost {item.unit_cost}" if item and item.unit_cost else ""
        yield Label(f"New price (now {item.price if item else '?'}{cost}; empty keeps it)")
        yield Input(placeholder="4.20", id="price")
        yield self.problem("price")
        yield Label(f"New min level (now {item.min_level if item else '?'}; empty keeps it)")
        yield Input(placeholder="20", id="min-level")
        yield self.problem("min-level")

    def checks(self) -> dict[str, Check]:
        return {
            "price": lambda text: check_money(text, "price"),
            "min-level": lambda text: check_whole(text, "min level", low=0, high=10**7),
        }

    def on_mount(self) -> None:
        self.query_one("#price" if self.sku else "#sku", Input).focus()

    def prepare(self) -> Send:
        sku_text = self.query_one("#sku", Input).value
        price_text = self.query_one("#price", Input).value
        asked = (sku_text.strip().upper(), price_text.strip())
        try:
            sku, fields = parse_product(
                sku_text,
                price_text,
                self.query_one("#min-level", Input).value,
                self.model.inventory,
                below_cost_ok=self._confirmed_price == asked,
            )
        except BelowCost:
            self._confirmed_price = asked  # the same price again is the confirmation
            raise
        before = self.model.inventory.get(sku)

        async def send(client: ApiClient) -> str:
            product = await client.update_product(sku, **fields)
            return (
                f"{sku}: price {change(before and before.price, product.price)}, "
                f"min level {change(before and before.min_level, product.min_level)}"
            )

        return send

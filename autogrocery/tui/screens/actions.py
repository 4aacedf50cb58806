"""The operator's actions: a truck restock manifest, a stock adjustment with a reason,
and a new price or min level."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select, TextArea

from autogrocery.tui.client import ApiClient
from autogrocery.tui.forms import (
    MANIFEST_HELP,
    REASONS,
    parse_adjust,
    parse_manifest,
    parse_product,
)
from autogrocery.tui.model import StoreModel
from autogrocery.tui.screens.form import FormScreen, Send


def suggested_manifest(model: StoreModel) -> str:
    """A line for each SKU below its min level, bringing it to twice the min level."""
    lines = []
    for sku in sorted(model.alerts):
        item = model.inventory.get(sku)
        if item is None:
            continue
        want = max(10, 2 * int(item.get("min_level", 0)) - int(item.get("available", 0)))
        lines.append(f"{sku} {min(want, 1000)}")
    return "\n".join(lines)


class RestockScreen(FormScreen):
    heading = "Truck restock manifest"

    def fields(self) -> ComposeResult:
        who = self.client.truck_name if self.client else None
        yield Label(
            Text(f"{MANIFEST_HELP.capitalize()}.\nThe unit cost defaults to the current one.")
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

    def prepare(self) -> Send:
        items = parse_manifest(self.query_one("#manifest", TextArea).text, self.model.inventory)

        async def send(client: ApiClient) -> str:
            receipt = await client.submit_restock(items)
            return (
                f"restock {receipt['restock_id']} {receipt['status']}: {len(items)} line(s), "
                f"total cost {receipt['total_cost']}"
            )

        return send


class AdjustScreen(FormScreen):
    heading = "Adjust stock"

    def __init__(self, client: ApiClient | None, model: StoreModel, sku: str | None) -> None:
        super().__init__(client, model)
        self.sku = sku or ""

    def fields(self) -> ComposeResult:
        yield Label("SKU")
        yield Input(self.sku, placeholder="BRD-001", id="sku")
        yield Label("Change in on-hand units (negative takes stock away)")
        yield Input(placeholder="-3", id="delta")
        yield Label("Reason")
        yield Select([(r, r) for r in REASONS], value="WASTE", allow_blank=False, id="reason")
        yield Label("Note (optional)")
        yield Input(placeholder="dropped a crate", id="note")

    def on_mount(self) -> None:
        self.query_one("#delta" if self.sku else "#sku", Input).focus()

    def prepare(self) -> Send:
        sku, delta, reason, note = parse_adjust(
            self.query_one("#sku", Input).value,
            self.query_one("#delta", Input).value,
            self.query_one("#reason", Select).value,
            self.query_one("#note", Input).value,
            self.model.inventory,
        )

        async def send(client: ApiClient) -> str:
            levels = await client.adjust_stock(sku, delta, reason, note)
            return (
                f"{sku} {reason} {delta:+d}: on hand {levels.get('on_hand')}, "
                f"available {levels.get('available')}"
            )

        return send


class ProductScreen(FormScreen):
    heading = "Change price or min level"

    def __init__(self, client: ApiClient | None, model: StoreModel, sku: str | None) -> None:
        super().__init__(client, model)
        self.sku = sku or ""

    def fields(self) -> ComposeResult:
        item = self.model.inventory.get(self.sku, {})
        yield Label("SKU")
        yield Input(self.sku, placeholder="BRD-001", id="sku")
        yield Label(f"New price (now {item.get('price', '?')}; empty keeps it)")
        yield Input(placeholder="4.20", id="price")
        yield Label(f"New min level (now {item.get('min_level', '?')}; empty keeps it)")
        yield Input(placeholder="20", id="min-level")

    def on_mount(self) -> None:
        self.query_one("#price" if self.sku else "#sku", Input).focus()

    def prepare(self) -> Send:
        sku, fields = parse_product(
            self.query_one("#sku", Input).value,
            self.query_one("#price", Input).value,
            self.query_one("#min-level", Input).value,
            self.model.inventory,
        )

        async def send(client: ApiClient) -> str:
            product = await client.update_product(sku, **fields)
            return f"{sku}: price {product.get('price')}, min level {product.get('min_level')}"

        return send

"""The head office's actions: request a transfer between two stores, and publish a
catalog version with new prices. Each shows, once done, what the head office made;
a retry of the same request after a lost answer carries the same Idempotency-Key."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Label, Select, TextArea

from autogrocery.tui.chain.client import ChainClient, TransferItem
from autogrocery.tui.chain.forms import (
    PRICES_HELP,
    TRANSFER_HELP,
    Retries,
    parse_prices,
    parse_transfer,
)
from autogrocery.tui.chain.model import ChainModel, store_status
from autogrocery.tui.client import ApiClient
from autogrocery.tui.screens.form import FormScreen, Send


def _items(items: list[TransferItem]) -> str:
    return ", ".join(f"{i['quantity']} {i['sku']}" for i in items)


class RequestTransferScreen(FormScreen[ChainModel]):
    heading = "Request a transfer"
    server = "the head office"

    def __init__(
        self, client: ChainClient | None, model: ChainModel, from_store: str | None = None
    ) -> None:
        super().__init__(client, model)
        self.chain: ChainModel = model
        self.from_store = from_store
        self.retries = Retries()

    def fields(self) -> ComposeResult:
        stores = [(f"{sid} ({store_status(s)})", sid) for sid, s in self.chain.stores.items()]
        given = self.from_store if self.from_store in self.chain.stores else Select.NULL
        yield Label("From (the store that picks and sends it)")
        yield Select(stores, value=given, prompt="choose a store", id="from-store")
        yield Label("To (the store that receives and shelves it)")
        yield Select(stores, prompt="choose a store", id="to-store")
        yield Label(
            Text(
                f"{TRANSFER_HELP[0].upper()}{TRANSFER_HELP[1:]}; 1 to 1000 of each.\n"
                "The sending store refuses it if it has not that much free stock."
            )
        )
        yield TextArea("", id="transfer-items", show_line_numbers=True)

    def on_mount(self) -> None:
        self.query_one("#to-store" if self.from_store else "#from-store", Select).focus()

    def cleared(self) -> None:
        self.query_one("#transfer-items", TextArea).text = ""

    def prepare(self) -> Send:
        from_store, to_store, items = parse_transfer(
            self.query_one("#from-store", Select).value,
            self.query_one("#to-store", Select).value,
            self.query_one("#transfer-items", TextArea).text,
            self.chain.stores,
        )
        key = self.retries.key((from_store, to_store, items))

        async def send(client: ApiClient) -> str:
            made = await cast(ChainClient, client).request_transfer(
                from_store, to_store, items, key
            )
            self.retries.settled()
            return (
                f"transfer {made.transfer_id} {made.status}: "
                f"{_items(items)} from {from_store} to {to_store}. "
                "Follow it in Transfers (3)."
            )

        return send


class CatalogScreen(FormScreen[ChainModel]):
    heading = "Publish prices (a new catalog version for every store)"
    server = "the head office"

    def __init__(self, client: ChainClient | None, model: ChainModel) -> None:
        super().__init__(client, model)
        self.retries = Retries()

    def fields(self) -> ComposeResult:
        yield Label(
            Text(
                f"{PRICES_HELP[0].upper()}{PRICES_HELP[1:]}.\n"
                "Every store applies the version once, in order, even one that is down now."
            )
        )
        yield TextArea("", id="prices", show_line_numbers=True)

    def on_mount(self) -> None:
        self.query_one("#prices", TextArea).focus()

    def cleared(self) -> None:
        self.query_one("#prices", TextArea).text = ""

    def prepare(self) -> Send:
        products = parse_prices(self.query_one("#prices", TextArea).text)
        key = self.retries.key(products)

        async def send(client: ApiClient) -> str:
            version = await cast(ChainClient, client).publish_catalog(products, key)
            self.retries.settled()
            prices = ", ".join(f"{p['sku']} {p['price']}" for p in products)
            return (
                f"catalog version {version}: {prices}. Stores (1) shows the version each "
                "store holds."
            )

        return send

"""The head office's API, by name, for its dashboard: `ApiClient` (the same login,
token renewal, problem+json errors and `Disconnected`) plus `/api/chain/*`.

The two POSTs carry an `Idempotency-Key` the caller chooses: a form sends the same key
again when it retries the same request (after a lost answer), so a transfer or a
catalog version is never made twice by a retry."""

from __future__ import annotations

from typing import TypedDict

from autogrocery.contract.head_office import (
    CatalogCreated,
    Sales,
    SkuStock,
    StockPage,
    StoreList,
    StoreStatus,
    Transfer,
    TransferList,
)
from autogrocery.tui.client import ApiClient, quote

STOCK_PAGE = 100  # SKUs per page of the stock list
TRANSFERS_PAGE = 100  # transfers the panel shows, newest first


class TransferItem(TypedDict):
    """A line of a transfer request: so many of a SKU."""

    sku: str
    quantity: int


class PriceChange(TypedDict):
    """A product of a catalog version the dashboard publishes: its new price."""

    sku: str
    price: str


class ChainClient(ApiClient):
    """An operator's session with a head office. Each answer is the head office's own
    Struct (`autogrocery/contract/head_office.py`), decoded strictly (`ask`)."""

    async def stores(self) -> list[StoreStatus]:
        """Every enrolled store: status (up, down, never), last seen, lag, catalog
        version, units on hand."""
        return (await self.ask(StoreList, "GET", "/api/chain/stores")).stores

    async def stock(self, sku: str) -> SkuStock:
        """One SKU in every store that reported it, with its total on hand."""
        return await self.ask(
            SkuStock, "GET", "/api/chain/stock", params={"sku": sku}, label="/api/chain/stock?sku"
        )

    async def stock_page(self, cursor: str | None = None, limit: int = STOCK_PAGE) -> StockPage:
        """A page of every SKU, in SKU order."""
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        return await self.ask(StockPage, "GET", "/api/chain/stock", params=params)

    async def transfers(
        self, status: str | None = None, limit: int = TRANSFERS_PAGE
    ) -> TransferList:
        """Newest first, one status or all."""
        params = {"limit": str(limit)} | ({"status": status} if status else {})
        return await self.ask(TransferList, "GET", "/api/chain/transfers", params=params)

    async def transfer(self, transfer_id: str) -> Transfer:
        return await self.ask(
            Transfer,
            "GET",
            f"/api/chain/transfers/{quote(transfer_id)}",
            label="/api/chain/transfers/{id}",
        )

    async def request_transfer(
        self, from_store: str, to_store: str, items: list[TransferItem], key: str
    ) -> Transfer:
        body = {"from_store": from_store, "to_store": to_store, "items": items}
        return await self.ask(
            Transfer, "POST", "/api/chain/transfers", body, headers={"Idempotency-Key": key}
        )

    async def sales(self, first: str | None = None, last: str | None = None) -> Sales:
        """Per store, from `first` to `last` (days of the chain's time zone, both
        included; the head office's default: today)."""
        params = {"from": first} if first else {}
        if last:
            params["to"] = last
        return await self.ask(Sales, "GET", "/api/chain/sales", params=params)

    async def publish_catalog(self, products: list[PriceChange], key: str) -> int:
        """A new catalog version for every store; returns its number."""
        made = await self.ask(
            CatalogCreated,
            "POST",
            "/api/chain/catalog",
            {"products": products},
            headers={"Idempotency-Key": key},
        )
        return made.version

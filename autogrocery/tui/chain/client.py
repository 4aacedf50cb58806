"""The head office's API, by name, for its dashboard: `ApiClient` (the same login,
token renewal, problem+json errors and `Disconnected`) plus `/api/chain/*`.

The two POSTs carry an `Idempotency-Key` the caller chooses: a form sends the same key
again when it retries the same request (after a lost answer), so a transfer or a
catalog version is never made twice by a retry."""

from __future__ import annotations

from typing import Any

from autogrocery.tui.client import ApiClient, quote

STOCK_PAGE = 100  # SKUs per page of the stock list
TRANSFERS_PAGE = 100  # transfers the panel shows, newest first


class ChainClient(ApiClient):
    """An operator's session with a head office."""

    async def stores(self) -> list[dict[str, Any]]:
        """Every enrolled store: status (up, down, never), last seen, lag, catalog
        version, units on hand."""
        return list((await self.call("GET", "/api/chain/stores"))["stores"])

    async def stock(self, sku: str) -> dict[str, Any]:
        """One SKU in every store that reported it: `{sku, total_on_hand, stores}`."""
        found: dict[str, Any] = await self.call(
            "GET", "/api/chain/stock", params={"sku": sku}, label="/api/chain/stock?sku"
        )
        return found

    async def stock_page(
        self, cursor: str | None = None, limit: int = STOCK_PAGE
    ) -> dict[str, Any]:
        """A page of every SKU, in SKU order: `{items, next_cursor}`."""
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        page: dict[str, Any] = await self.call("GET", "/api/chain/stock", params=params)
        return page

    async def transfers(
        self, status: str | None = None, limit: int = TRANSFERS_PAGE
    ) -> dict[str, Any]:
        """Newest first, one status or all: `{transfers, next_cursor}`."""
        params = {"limit": str(limit)} | ({"status": status} if status else {})
        page: dict[str, Any] = await self.call("GET", "/api/chain/transfers", params=params)
        return page

    async def transfer(self, transfer_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/api/chain/transfers/{quote(transfer_id)}", label="/api/chain/transfers/{id}"
        )
        return found

    async def request_transfer(
        self, from_store: str, to_store: str, items: list[dict[str, Any]], key: str
    ) -> dict[str, Any]:
        body = {"from_store": from_store, "to_store": to_store, "items": items}
        made: dict[str, Any] = await self.call(
            "POST", "/api/chain/transfers", body, headers={"Idempotency-Key": key}
        )
        return made

    async def sales(self, first: str | None = None, last: str | None = None) -> dict[str, Any]:
        """Per store, from `first` to `last` (days of the chain's time zone, both
        included; the head office's default: today)."""
        params = {"from": first} if first else {}
        if last:
            params["to"] = last
        report: dict[str, Any] = await self.call("GET", "/api/chain/sales", params=params)
        return report

    async def publish_catalog(self, products: list[dict[str, Any]], key: str) -> int:
        """A new catalog version for every store; returns its number."""
        made = await self.call(
            "POST",
            "/api/chain/catalog",
            {"products": products},
            headers={"Idempotency-Key": key},
        )
        return int(made["version"])

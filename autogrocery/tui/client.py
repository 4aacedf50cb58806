"""The dashboard's door to a store: the store's API, by name.

`ApiClient` is the shared `StoreClient` (`autogrocery/client/`: logins and their
renewal, problem+json answers as `ApiError` whose text is the server's, verbatim, and
`Disconnected` when the store cannot be reached, the `/api/events` WebSocket) as an
operator, with a truck login for restock manifests (made on first use if none was
given), and one method per request the dashboard makes. No textual here: `feed.py`
reconnects, the app draws.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import quote as _quote

from autogrocery.client import Account, ApiError, Credentials, StoreClient

log = logging.getLogger(__name__)

TRUCK = "truck"
SEARCH = "/api/ops/inventory?q="  # how a search is counted in `sent`


class ApiClient(StoreClient):
    """An operator's session with one store. Use as `async with ApiClient(...) as api`."""

    def __init__(
        self,
        url: str,
        operator: Credentials,
        truck: Credentials | None = None,
        *,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(url, operator, timeout=timeout, counted=True)
        self.truck = Account(truck) if truck is not None else None
        self._making_truck = asyncio.Lock()

    @property
    def truck_name(self) -> str | None:
        return self.truck.username if self.truck else None

    async def truck_account(self) -> Account:
        """The truck login; with none given, the operator creates one for this session."""
        async with self._making_truck:
            if self.truck is None:
                made = Credentials(
                    f"dashboard-truck-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
                )
                await self.call(
                    "POST",
                    "/api/ops/accounts",
                    {"username": made.username, "password": made.password, "role": TRUCK},
                )
                log.info("created truck account %s for restock manifests", made.username)
                self.truck = Account(made)
            return self.truck

    # --- the API, by name ------------------------------------------------------------

    async def inventory(self) -> list[dict[str, Any]]:
        """Every product's stock, a page at a time (a big store's is megabytes)."""
        return await self.every("/api/ops/inventory")

    async def find_stock(
        self, words: str, aisle: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The store's search over its products, best match first (one page)."""
        params = {"q": words, "limit": str(limit)} | ({"aisle": aisle} if aisle else {})
        found = await self.call("GET", "/api/ops/inventory", params=params, label=SEARCH)
        return list(found["items"])

    async def orders(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        params = {"limit": str(limit)} | ({"status": status} if status else {})
        return list((await self.call("GET", "/api/orders", params=params))["orders"])

    async def restocks(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        params = {"limit": str(limit)} | ({"status": status} if status else {})
        found = await self.call("GET", "/api/restocks", params=params)
        return list(found["restocks"])

    async def order(self, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/api/orders/{quote(order_id)}", label="/api/orders/{id}"
        )
        return found

    async def cancel_order(self, order_id: str) -> dict[str, Any]:
        """Cancel a preview, or an order robots are picking (what they picked goes back)."""
        found: dict[str, Any] = await self.call(
            "POST", f"/api/orders/{quote(order_id)}/cancel", label="/api/orders/{id}/cancel"
        )
        return found

    async def history(self, order_id: str) -> list[dict[str, Any]]:
        found = await self.call(
            "GET", f"/api/orders/{quote(order_id)}/history", label="/api/orders/{id}/history"
        )
        return list(found["history"])

    async def restock(self, restock_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/api/restocks/{quote(restock_id)}", label="/api/restocks/{id}"
        )
        return found

    async def chain(self) -> dict[str, Any] | None:
        """The store's link to its head office; None when the store is in no chain."""
        try:
            found: dict[str, Any] = await self.call("GET", "/api/ops/chain")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    async def robots(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/api/ops/robots"))["robots"])

    async def analytics(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", "/api/ops/analytics")
        return found

    async def alerts(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/api/ops/alerts"))["alerts"])

    async def expiring(self, within_days: int = 3) -> list[dict[str, Any]]:
        """Lots with stock that expire within `within_days` days (or did), soonest first."""
        found = await self.call("GET", "/api/ops/expiring", params={"within": f"{within_days}d"})
        return list(found["lots"])

    async def usage(self, days: int = 7) -> dict[str, Any]:
        """Units taken per SKU per day over the last `days` store days (today included)."""
        report: dict[str, Any] = await self.call(
            "GET", "/api/ops/reports/usage", params={"days": str(days)}
        )
        return report

    async def waste(self, first: str | None = None, last: str | None = None) -> dict[str, Any]:
        """What was written off from `first` to `last` (store days, `YYYY-MM-DD`, both
        included; the store's default: the 7 days to today), with its value at cost."""
        params = {"from": first} if first else {}
        if last:
            params["to"] = last
        report: dict[str, Any] = await self.call("GET", "/api/ops/reports/waste", params=params)
        return report

    async def reorder(self) -> dict[str, Any]:
        """What to order now, from recent usage, min levels and the delivery lead time."""
        report: dict[str, Any] = await self.call("GET", "/api/ops/reports/reorder")
        return report

    async def submit_restock(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """A truck manifest, sent with the truck login (created on first use if none)."""
        receipt: dict[str, Any] = await self.call(
            "POST", "/api/restocks", {"items": items}, account=await self.truck_account()
        )
        return receipt

    async def adjust_stock(
        self, sku: str, delta: int, reason: str, note: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"delta": delta, "reason": reason}
        if note:
            body["note"] = note
        levels: dict[str, Any] = await self.call(
            "POST",
            f"/api/ops/stock/{quote(sku)}/adjust",
            body,
            label="/api/ops/stock/{sku}/adjust",
        )
        return levels

    async def command(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        """A stock command in plain words, or the answer to its last question."""
        body: dict[str, Any] = {"text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        reply: dict[str, Any] = await self.call("POST", "/api/ops/commands", body)
        return reply

    async def update_product(self, sku: str, **fields: Any) -> dict[str, Any]:
        product: dict[str, Any] = await self.call(
            "PATCH", f"/api/ops/products/{quote(sku)}", fields, label="/api/ops/products/{sku}"
        )
        return product


def quote(segment: str) -> str:
    return _quote(segment, safe="")

"""The dashboard's door to a store: the store's API, by name.

`ApiClient` is the shared `StoreClient` (`autogrocery/client/`: logins and their
renewal, problem+json answers as `ApiError` whose text is the server's, verbatim, and
`Disconnected` when the store cannot be reached, the `/api/events` WebSocket) as an
operator, with a truck login for restock manifests (made on first use if none was
given), and one method per request the dashboard makes, each answering the API's own Struct
(`autogrocery/contract/`). No textual here: `feed.py`
reconnects, the app draws.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import NotRequired, TypedDict, Unpack
from urllib.parse import quote as _quote

from autogrocery.client import Account, ApiError, Credentials, StoreClient
from autogrocery.contract.accounts import Account as AccountView
from autogrocery.contract.chain import ChainLink
from autogrocery.contract.commands import CommandReply
from autogrocery.contract.ops import (
    Alert,
    AlertList,
    Analytics,
    ExpiringLot,
    ExpiringLots,
    ReorderReport,
    Robot,
    RobotList,
    UsageReport,
    WasteReport,
)
from autogrocery.contract.orders import (
    Order,
    OrderHistory,
    OrderHistoryEntry,
    OrderList,
    OrderState,
    Restock,
    RestockList,
    RestockReceipt,
)
from autogrocery.contract.stock import Inventory, InventoryItem
from autogrocery.contract.webhooks import Webhook, WebhookList

log = logging.getLogger(__name__)

TRUCK = "truck"
SEARCH = "/api/ops/inventory?q="  # how a search is counted in `sent`


class ManifestLine(TypedDict):
    """A line of a truck's manifest, as `POST /api/restocks` takes it."""

    sku: str
    quantity: int
    unit_cost: str
    expiry_date: NotRequired[str]  # a fresh lot's best-before (YYYY-MM-DD)
    mfd_date: NotRequired[str]


class ProductChange(TypedDict, total=False):
    """What `PATCH /api/ops/products/{sku}` changes (at least one)."""

    price: str
    min_level: int


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
                await self.ask(
                    AccountView,
                    "POST",
                    "/api/ops/accounts",
                    {"username": made.username, "password": made.password, "role": TRUCK},
                )
                log.info("created truck account %s for restock manifests", made.username)
                self.truck = Account(made)
            return self.truck

    # --- the API, by name ------------------------------------------------------------
    # Each answer is the API's own Struct (`autogrocery/contract/`), decoded strictly by
    # `ask`: one that does not decode is an `UnexpectedAnswer`, an `ApiError`.

    async def inventory(self) -> list[InventoryItem]:
        """Every product's stock, a page at a time (a big store's is megabytes)."""
        return await self.listing(Inventory, "/api/ops/inventory", lambda page: page.items)

    async def find_stock(
        self, words: str, aisle: str | None = None, limit: int = 200
    ) -> list[InventoryItem]:
        """The store's search over its products, best match first (one page)."""
        params = {"q": words, "limit": str(limit)} | ({"aisle": aisle} if aisle else {})
        found = await self.ask(Inventory, "GET", "/api/ops/inventory", params=params, label=SEARCH)
        return found.items

    async def orders(self, status: str | None = None, limit: int = 200) -> list[Order]:
        params = {"limit": str(limit)} | ({"status": status} if status else {})
        return (await self.ask(OrderList, "GET", "/api/orders", params=params)).orders

    async def restocks(self, status: str | None = None, limit: int = 50) -> list[Restock]:
        params = {"limit": str(limit)} | ({"status": status} if status else {})
        return (await self.ask(RestockList, "GET", "/api/restocks", params=params)).restocks

    async def order(self, order_id: str) -> Order:
        return await self.ask(
            Order, "GET", f"/api/orders/{quote(order_id)}", label="/api/orders/{id}"
        )

    async def cancel_order(self, order_id: str) -> OrderState:
        """Cancel a preview, or an order robots are picking (what they picked goes back)."""
        return await self.ask(
            OrderState,
            "POST",
            f"/api/orders/{quote(order_id)}/cancel",
            label="/api/orders/{id}/cancel",
        )

    async def history(self, order_id: str) -> list[OrderHistoryEntry]:
        found = await self.ask(
            OrderHistory,
            "GET",
            f"/api/orders/{quote(order_id)}/history",
            label="/api/orders/{id}/history",
        )
        return found.history

    async def restock(self, restock_id: str) -> Restock:
        return await self.ask(
            Restock, "GET", f"/api/restocks/{quote(restock_id)}", label="/api/restocks/{id}"
        )

    async def chain(self) -> ChainLink | None:
        """The store's link to its head office; None when the store is in no chain."""
        try:
            return await self.ask(ChainLink, "GET", "/api/ops/chain")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def robots(self) -> list[Robot]:
        return (await self.ask(RobotList, "GET", "/api/ops/robots")).robots

    async def analytics(self) -> Analytics:
        return await self.ask(Analytics, "GET", "/api/ops/analytics")

    async def alerts(self) -> list[Alert]:
        return (await self.ask(AlertList, "GET", "/api/ops/alerts")).alerts

    async def webhooks(self) -> list[Webhook]:
        return (await self.ask(WebhookList, "GET", "/api/ops/webhooks")).webhooks

    async def expiring(self, within_days: int = 3) -> list[ExpiringLot]:
        """Lots with stock that expire within `within_days` days (or did), soonest first."""
        params = {"within": f"{within_days}d"}
        return (await self.ask(ExpiringLots, "GET", "/api/ops/expiring", params=params)).lots

    async def usage(self, days: int = 7) -> UsageReport:
        """Units taken per SKU per day over the last `days` store days (today included)."""
        return await self.ask(
            UsageReport, "GET", "/api/ops/reports/usage", params={"days": str(days)}
        )

    async def waste(self, first: str | None = None, last: str | None = None) -> WasteReport:
        """What was written off from `first` to `last` (store days, `YYYY-MM-DD`, both
        included; the store's default: the 7 days to today), with its value at cost."""
        params = {"from": first} if first else {}
        if last:
            params["to"] = last
        return await self.ask(WasteReport, "GET", "/api/ops/reports/waste", params=params)

    async def reorder(self) -> ReorderReport:
        """What to order now, from recent usage, min levels and the delivery lead time."""
        return await self.ask(ReorderReport, "GET", "/api/ops/reports/reorder")

    async def submit_restock(self, items: list[ManifestLine]) -> RestockReceipt:
        """A truck manifest, sent with the truck login (created on first use if none)."""
        return await self.ask(
            RestockReceipt,
            "POST",
            "/api/restocks",
            {"items": items},
            account=await self.truck_account(),
        )

    async def adjust_stock(
        self, sku: str, delta: int, reason: str, note: str | None = None
    ) -> InventoryItem:
        """The product with its new levels."""
        body: dict[str, object] = {"delta": delta, "reason": reason}
        if note:
            body["note"] = note
        return await self.ask(
            InventoryItem,
            "POST",
            f"/api/ops/stock/{quote(sku)}/adjust",
            body,
            label="/api/ops/stock/{sku}/adjust",
        )

    async def command(self, text: str, conversation_id: str | None = None) -> CommandReply:
        """A stock command in plain words, or the answer to its last question."""
        body = {"text": text} | ({"conversation_id": conversation_id} if conversation_id else {})
        return await self.ask(CommandReply, "POST", "/api/ops/commands", body)

    async def update_product(self, sku: str, **fields: Unpack[ProductChange]) -> InventoryItem:
        """The product as it is now."""
        return await self.ask(
            InventoryItem,
            "PATCH",
            f"/api/ops/products/{quote(sku)}",
            fields,
            label="/api/ops/products/{sku}",
        )


def quote(segment: str) -> str:
    return _quote(segment, safe="")

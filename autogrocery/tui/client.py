"""The dashboard's door to a store: the HTTP API and the `/api/events` WebSocket only.

One `ApiClient` holds an operator login (and, for restock manifests, a truck login):
it logs in on first use, refreshes an expired access token with its single-use refresh
token (one renewal at a time, so a refresh token is never presented twice), and turns
every problem+json answer into an `ApiError` whose text is the server's, verbatim.
A store that cannot be reached raises `Disconnected` (both in `client_errors.py`). No
textual here: `feed.py` reconnects, the app draws.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as _quote

import aiohttp
import orjson

from autogrocery.tui.client_errors import ApiError, Disconnected, describe

log = logging.getLogger(__name__)

OPERATOR = "operator"
TRUCK = "truck"
WS_HEARTBEAT = 5.0  # seconds; a silent store is noticed within two of these


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = ""

    def __repr__(self) -> str:  # never print a password by accident
        return f"Credentials({self.username!r}, password=…)"


class ApiClient:
    """An operator's session with one store. Use as `async with ApiClient(...) as api`."""

    def __init__(
        self,
        url: str,
        operator: Credentials,
        truck: Credentials | None = None,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.credentials = {OPERATOR: operator}
        if truck is not None:
            self.credentials[TRUCK] = truck
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.sent: collections.Counter[str] = collections.Counter()  # "POST /api/restocks" → n
        self._tokens: dict[str, tuple[str, str]] = {}  # who → (access, refresh)
        self._locks = {OPERATOR: asyncio.Lock(), TRUCK: asyncio.Lock()}
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(json_serialize=lambda v: orjson.dumps(v).decode())
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- requests --------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        who: str = OPERATOR,
        label: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One request as `who`; an expired login is renewed once and the request retried."""
        token = await self._token(who)
        try:
            return await self._send(method, path, json, params, token, label, headers)
        except ApiError as exc:
            if exc.status != 401:
                raise
        await self._renew(who, stale=token)
        token = await self._token(who)
        return await self._send(method, path, json, params, token, label, headers)

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, str] | None,
        token: str | None,
        label: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Any:
        self.sent[f"{method} {label or path}"] += 1
        headers = dict(extra or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self.http.request(
                method,
                self.url + path,
                json=json,
                params=params,
                headers=headers,
                timeout=self.timeout,
            ) as response:
                body = await response.read()
                status, reason = response.status, response.reason
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Disconnected(describe(exc)) from exc
        if status >= 400:
            raise ApiError.from_body(status, body, reason)
        return orjson.loads(body) if body else None

    # --- logins ----------------------------------------------------------------------

    async def _token(self, who: str) -> str:
        if who not in self._tokens:
            await self._renew(who, stale=None)
        return self._tokens[who][0]

    async def _renew(self, who: str, stale: str | None) -> None:
        """Refresh (or log in again); one renewal at a time, and none if another caller
        renewed since `stale` was handed out."""
        async with self._locks[who]:
            current = self._tokens.get(who)
            if current is not None and current[0] != stale:
                return
            if current is not None:
                try:
                    pair = await self._send(
                        "POST", "/api/auth/refresh", {"refresh_token": current[1]}, None, None
                    )
                    self._tokens[who] = (pair["access_token"], pair["refresh_token"])
                    return
                except ApiError:
                    del self._tokens[who]  # dead refresh token: log in again below
            credentials = await self._credentials(who)
            pair = await self._send(
                "POST",
                "/api/auth/login",
                {"username": credentials.username, "password": credentials.password},
                None,
                None,
            )
            self._tokens[who] = (pair["access_token"], pair["refresh_token"])

    async def _credentials(self, who: str) -> Credentials:
        if who in self.credentials:
            return self.credentials[who]
        # No truck login was given: the operator creates one for this session.
        truck = Credentials(f"dashboard-truck-{secrets.token_hex(4)}", secrets.token_urlsafe(18))
        await self.call(
            "POST",
            "/api/ops/accounts",
            json={"username": truck.username, "password": truck.password, "role": TRUCK},
        )
        log.info("created truck account %s for restock manifests", truck.username)
        self.credentials[TRUCK] = truck
        return truck

    @property
    def truck_name(self) -> str | None:
        truck = self.credentials.get(TRUCK)
        return truck.username if truck else None

    # --- live events -----------------------------------------------------------------

    @asynccontextmanager
    async def events(self) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """The operator's WebSocket on `/api/events` (every event of the store)."""
        token = await self._token(OPERATOR)
        try:
            ws = await self._ws(token)
        except ApiError as exc:
            if exc.status != 401:
                raise
            await self._renew(OPERATOR, stale=token)
            ws = await self._ws(await self._token(OPERATOR))
        try:
            yield ws
        finally:
            await ws.close()

    async def _ws(self, token: str) -> aiohttp.ClientWebSocketResponse:
        self.sent["GET /api/events"] += 1
        try:
            return await self.http.ws_connect(
                self.url + "/api/events",
                headers={"Authorization": f"Bearer {token}"},
                heartbeat=WS_HEARTBEAT,
                timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise ApiError(exc.status, exc.message or "handshake refused") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Disconnected(describe(exc)) from exc

    # --- the API, by name ------------------------------------------------------------

    async def inventory(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/api/ops/inventory"))["items"])

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
            "POST", "/api/restocks", json={"items": items}, who=TRUCK
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
            json=body,
            label="/api/ops/stock/{sku}/adjust",
        )
        return levels

    async def command(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        """A stock command in plain words, or the answer to its last question."""
        body: dict[str, Any] = {"text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        reply: dict[str, Any] = await self.call("POST", "/api/ops/commands", json=body)
        return reply

    async def update_product(self, sku: str, **fields: Any) -> dict[str, Any]:
        product: dict[str, Any] = await self.call(
            "PATCH", f"/api/ops/products/{quote(sku)}", json=fields, label="/api/ops/products/{sku}"
        )
        return product


def quote(segment: str) -> str:
    return _quote(segment, safe="")

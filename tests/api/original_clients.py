"""The original Auto Grocery clients, as their code talks to the store.

Each method makes the HTTP calls the original Streamlit UI makes (python `requests`,
JSON bodies, the same headers), reads only the fields it reads, and reacts to status
codes as it does: the fridge refreshes right after login and then every 240 s, retries
a call once after a 401 with a refreshed token, needs exactly 201 on preview and 200 on
confirm, and polls `orders/last` every 2 s; the truck UI sends no credentials and polls
the restock's status every 2 s, up to 120 times. What the UI would show is returned.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any

import aiohttp

POLL_EVERY = 2.0
TOKEN_REFRESH_INTERVAL = 240.0
REQUESTS_HEADERS = {  # what python-requests sends on every call
    "User-Agent": "python-requests/2.32.3",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
}


@dataclass
class Reply:
    """What the UIs use of a `requests.Response`."""

    status_code: int
    text: str
    content_type: str

    def json(self) -> Any:  # requests parses the body whatever its Content-Type
        return json.loads(self.text)


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    payload: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Reply:
    """`requests.get(url, ...)` / `requests.post(url, json=payload, ...)`."""
    sent = dict(REQUESTS_HEADERS) | (headers or {})
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()  # requests' json=: json.dumps, UTF-8
        sent["Content-Type"] = "application/json"
    async with session.request(method, url, data=data, headers=sent, params=params) as res:
        return Reply(res.status, await res.text(), res.content_type)


class OriginalFridge:
    """The original smart-fridge client UI (Robot Mart | Client)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.token: str | None = None
        self.refresh_token: str | None = None
        self.device_id: str | None = None
        self.last_refresh_ts = 0.0
        self.order_id: str | None = None
        self.confirmed_items: dict[str, int] = {}
        self.telemetry: list[str] = []  # each polled Status, as the UI writes it

    # --- authentication ---------------------------------------------------------------

    async def register(
        self, device_id: str, password: str, email: str = "", phone: str = ""
    ) -> str:
        payload = {"device_id": device_id, "email": email, "phone": phone, "password": password}
        res = await send(self.session, "POST", f"{self.base}/api/client/register", payload)
        if res.status_code == 201:
            return "Device Registered. Please Login."
        return f"Error: {res.text}"

    async def login(self, device_id: str, password: str) -> bool:
        payload = {"device_id": device_id, "password": password}
        res = await send(self.session, "POST", f"{self.base}/api/client/login", payload)
        if res.status_code != 200:
            return False
        data = res.json()
        self.token = data.get("access_token")
        self.refresh_token = data.get("refresh_token")
        self.device_id = device_id
        # The page reruns, and the ordering interface refreshes first thing (the last
        # refresh is at 0, 240 s ago and more).
        await self.maybe_auto_refresh_access_token()
        return True

    async def refresh_access_token(self) -> bool:
        if not self.refresh_token:
            return False
        headers = {"Authorization": f"Bearer {self.refresh_token}"}
        res = await send(self.session, "POST", f"{self.base}/api/client/refresh", None, headers)
        if res.status_code == 200:
            self.token = res.json().get("access_token")
            self.last_refresh_ts = time.time()
            return True
        return False

    async def maybe_auto_refresh_access_token(self) -> None:
        if not self.token or not self.refresh_token:
            return
        if time.time() - self.last_refresh_ts < TOKEN_REFRESH_INTERVAL:
            return
        await self.refresh_access_token()

    async def auth_request(self, method: str, path: str, payload: Any = None) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        url = f"{self.base}{path}"
        res = await send(self.session, method, url, None if method == "GET" else payload, headers)
        if res.status_code == 401 and self.refresh_token and await self.refresh_access_token():
            headers["Authorization"] = f"Bearer {self.token}"
            res = await send(
                self.session, method, url, None if method == "GET" else payload, headers
            )
        return res

    # --- ordering ---------------------------------------------------------------------

    async def stock_scan(self, cart: list[tuple[str, int]]) -> list[str]:
        """INITIATE STOCK SCAN: preview the cart; what the UI shows."""
        payload = [{"sku": sku, "quantity": int(qty)} for sku, qty in cart if sku]
        res = await self.auth_request("POST", "/api/client/order/preview", {"items": payload})
        if res.status_code != 201:
            return [f"Stock Scan Failed: {res.text}"]
        data = res.json()
        self.order_id = data.get("order_id")
        self.confirmed_items = data.get("items") or {}
        shown = [f"SCAN SUCCESSFUL | ORDER ID: {self.order_id}"]
        for sku, qty in self.confirmed_items.items():  # a mapping, or this fails
            shown.append(f"{sku}: {qty} units available")
        return shown

    async def cancel_current_order(self) -> str:
        res = await self.auth_request(
            "POST", "/api/client/order/cancel", {"order_id": self.order_id}
        )
        if res.status_code == 200:
            self.order_id, self.confirmed_items = None, {}
            return "Order cancelled and reservation released"
        return f"Cancel failed: {res.text}"

    async def dispatch(self, max_polls: int = 60) -> dict[str, Any] | str:
        """DISPATCH ROBOT SQUADRON: confirm, then poll the last order every 2 s until it
        is COMPLETED (returns the receipt: the whole record) or FAILED. The original polls
        without end; `max_polls` only keeps a broken store from hanging a test."""
        payload = {"order_id": self.order_id, "items": self.confirmed_items}
        res = await self.auth_request("POST", "/api/client/order/confirm", payload)
        if res.status_code != 200:
            return "Signal Lost: Robot Dispatch Failed."
        for _ in range(max_polls):
            poll = await self.auth_request("GET", "/api/client/orders/last")
            if poll.status_code == 200:
                order_data = poll.json().get("data", {})
                order_status = order_data.get("Status")
                self.telemetry.append(f"Robot Telemetry: `{order_status}`")
                if order_status == "COMPLETED":
                    final_price = order_data.get("TotalPrice", 0.0)
                    self.telemetry.append(f"FINAL CHARGE: ${final_price}")
                    self.order_id, self.confirmed_items = None, {}
                    return dict(order_data)
                if "FAILED" in str(order_status):
                    return "SEQUENCE CRITICAL FAILURE"
            await asyncio.sleep(POLL_EVERY)
        raise AssertionError(f"not COMPLETED after {max_polls} polls: {self.telemetry}")

    async def order_history(self) -> list[dict[str, Any]] | str:
        res = await self.auth_request("GET", "/api/client/orders")
        if res.status_code != 200:
            return f"History Error: {res.text}"
        return list(res.json().get("data") or [])


class OriginalTruck:
    """The original truck UI (Truck Offload Terminal): no credentials at all."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.telemetry: list[str] = []

    async def offload(
        self,
        supplier_id: str,
        supplier_name: str,
        rows: list[dict[str, Any]],
        mfd: date,
        expiry: date,
    ) -> tuple[str, str, Any]:
        """OFFLOAD TRUCK: rows of {sku, name, aisle_type, quantity, unit_cost}. Returns
        (order_id, the success message, the final TotalCost), or raises with the UI's
        FAILURE line."""
        mfd_iso = datetime.combine(mfd, clock.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")
        exp_iso = datetime.combine(expiry, clock.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")
        manifest = [
            {
                "sku": row["sku"],
                "name": row["name"],
                "aisle_type": row["aisle_type"],
                "quantity": int(row["quantity"]),
                "unit_cost": float(row["unit_cost"]),
                "mfd_date": mfd_iso,
                "expiry_date": exp_iso,
            }
            for row in rows
            if row["sku"]
        ]
        payload = {"supplier_id": supplier_id, "supplier_name": supplier_name, "items": manifest}
        res = await send(self.session, "POST", f"{self.base}/api/truck/restock", payload)
        if res.status_code != 201:
            raise AssertionError(f"FAILURE: {res.status_code} - {res.text}")
        body = res.json()
        order_id = body.get("order_id")
        message = f"SUCCESS: {body.get('message', 'Truck registered.')} | ORDER ID: {order_id}"
        for _ in range(120):
            poll = await send(
                self.session,
                "GET",
                f"{self.base}/api/truck/restock/status",
                params={"order_id": order_id},
            )
            if poll.status_code == 200:
                data = poll.json().get("data", {})
                state = data.get("Status")
                total_cost = data.get("TotalCost", 0.0)
                self.telemetry.append(f"Restock Telemetry: `{state}`")
                if state == "COMPLETED":
                    return order_id, message, total_cost
                if "FAILED" in str(state):
                    raise AssertionError("OFFLOAD FAILED")
            await asyncio.sleep(POLL_EVERY)
        raise AssertionError(f"not COMPLETED after 120 polls: {self.telemetry}")

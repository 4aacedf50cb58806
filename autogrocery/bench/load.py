"""Simulated devices: preview + confirm, completion observed over each device's WebSocket.

A device's WebSocket reconnects when the store restarts, and then polls the orders it
still waits for (it may have missed their last event while it was away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from autogrocery.bench.stats import Recorder

log = logging.getLogger(__name__)

JSON = {"Content-Type": "application/json"}
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "EXPIRED")
RECONNECT_MAX = 2.0  # seconds between WebSocket reconnection attempts, at most


class RequestFailed(Exception):
    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what} answered {status}")
        self.what = what
        self.status = status


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    what: str = "",
) -> Any:
    data = orjson.dumps(body) if body is not None else None
    async with http.request(
        method, path, data=data, headers={**headers, **JSON} if data else headers
    ) as response:
        payload = await response.read()
        if response.status >= 300:
            raise RequestFailed(what or path, response.status)
        return orjson.loads(payload) if payload else None


async def login(http: aiohttp.ClientSession, username: str, password: str) -> dict[str, str]:
    tokens = await call(
        http, "POST", "/api/auth/login", {}, {"username": username, "password": password}, "login"
    )
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@dataclass
class Device:
    """One fridge: its login, its event stream and the orders it waits for."""

    name: str
    password: str
    headers: dict[str, str]
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    reconnects: int = 0

    async def listen(self, http: aiohttp.ClientSession) -> None:
        ready = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._follow(http, ready))
        await ready

    async def _follow(self, http: aiohttp.ClientSession, ready: asyncio.Future[None]) -> None:
        """Read events; when the connection drops, connect again and catch up."""
        delay = 0.1
        while True:
            try:
                async with http.ws_connect("/api/events", headers=self.headers, heartbeat=30) as ws:
                    delay = 0.1
                    if not ready.done():
                        ready.set_result(None)
                    else:
                        self.reconnects += 1
                        await self._catch_up(http)
                    async for message in ws:
                        self._event(orjson.loads(message.data))
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == 401:  # a store with new keys: log in again
                    with contextlib.suppress(aiohttp.ClientError, RequestFailed):
                        self.headers = await login(http, self.name, self.password)
            except (TimeoutError, aiohttp.ClientError, OSError):
                pass
            if not ready.done():
                ready.set_exception(ConnectionError(f"{self.name}: no event stream"))
                return
            await asyncio.sleep(delay)
            delay = min(RECONNECT_MAX, delay * 2)

    def _event(self, event: dict[str, Any]) -> None:
        data = event.get("data", {})
        if data.get("status") in FINAL:
            waiter = self.waiting.pop(data.get("order_id", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)

    async def _catch_up(self, http: aiohttp.ClientSession) -> None:
        """After a reconnection: the orders still awaited may have finished meanwhile."""
        for order_id in list(self.waiting):
            with contextlib.suppress(aiohttp.ClientError, RequestFailed):
                self._event({"data": await self.poll(http, order_id)})

    async def poll(self, http: aiohttp.ClientSession, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = await call(
            http, "GET", f"/api/orders/{order_id}", self.headers, what="poll"
        )
        return order

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)


@dataclass
class Shopper:
    """Builds orders of `items` lines over `aisles` aisles and runs them end to end."""

    http: aiohttp.ClientSession
    skus_by_aisle: dict[str, list[str]]
    items: int
    aisles: int
    recorder: Recorder
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    measuring: bool = False
    completion_timeout: float = 60.0

    def basket(self) -> list[dict[str, Any]]:
        aisles = self.rng.sample(
            sorted(self.skus_by_aisle), min(self.aisles, len(self.skus_by_aisle))
        )
        chosen: set[str] = set()
        for n in range(self.items):
            pool = [s for s in self.skus_by_aisle[aisles[n % len(aisles)]] if s not in chosen]
            chosen.add(self.rng.choice(pool))
        return [{"sku": sku, "quantity": 1} for sku in sorted(chosen)]

    async def order(self, device: Device) -> None:
        """One order end to end. It is counted in the report (successes, errors,
        failures, cancellations alike) only if it started inside the measured window;
        what it picked always counts, for the books."""
        record = self.recorder
        measuring = self.measuring

        def error(what: str, status: int | str) -> None:
            if measuring:
                record.error(what, status)

        items = self.basket()
        started = time.perf_counter()
        try:
            preview = await call(
                self.http,
                "POST",
                "/api/orders/preview",
                device.headers,
                {"items": items},
                "preview",
            )
        except RequestFailed as failure:
            error(failure.what, failure.status)
            return
        except aiohttp.ClientError as exc:
            error("preview", type(exc).__name__)
            return
        previewed = time.perf_counter()
        if measuring:
            record.previews += 1
            record.preview.append(previewed - started)
        order_id = preview["order_id"]
        done = asyncio.get_running_loop().create_future()
        device.waiting[order_id] = done
        try:
            await call(
                self.http,
                "POST",
                f"/api/orders/{order_id}/confirm",
                device.headers,
                None,
                "confirm",
            )
        except (RequestFailed, aiohttp.ClientError) as exc:
            error("confirm", exc.status if isinstance(exc, RequestFailed) else type(exc).__name__)
            if await self._cancel(device, order_id, measuring):
                device.waiting.pop(order_id, None)
                return
            # The cancel found it confirmed after all (the answer was lost): follow it.
        else:
            if measuring:
                record.confirms += 1
                record.confirm.append(time.perf_counter() - previewed)
        outcome = await self._outcome(device, order_id, done)
        finished = time.perf_counter()
        if outcome is None:
            error("completion", "timeout")
            return
        if outcome["status"] != "COMPLETED":
            if measuring:
                record.failed += 1
            return
        for item in items:
            record.picked[item["sku"]] += item["quantity"]
        if outcome.get("total") != preview["total"]:
            record.total_mismatches += 1
        if measuring:
            record.completed += 1
            record.completion.append(finished - previewed)

    async def _outcome(
        self, device: Device, order_id: str, done: asyncio.Future[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The final state from the event stream; if none came in time, ask once."""
        try:
            return await asyncio.wait_for(done, self.completion_timeout)
        except TimeoutError:
            device.waiting.pop(order_id, None)
        with contextlib.suppress(aiohttp.ClientError, RequestFailed):
            order = await device.poll(self.http, order_id)
            if order["status"] in FINAL:
                return order
        return None

    async def _cancel(self, device: Device, order_id: str, counted: bool) -> bool:
        """A preview whose confirm failed holds stock: give it back. False when the
        store says it is no preview any more (it was confirmed after all). `counted`:
        the order is in the report."""
        record = self.recorder if counted else Recorder()
        try:
            await call(
                self.http, "POST", f"/api/orders/{order_id}/cancel", device.headers, None, "cancel"
            )
        except RequestFailed as failure:
            if failure.status == 409:
                return False
            record.error("cancel", failure.status)
        except aiohttp.ClientError as exc:
            record.error("cancel", type(exc).__name__)
        else:
            record.cancelled += 1
        return True

"""Simulated devices: preview + confirm, completion observed over each device's WebSocket.

Every request goes through the shared client (`autogrocery/client/`). A device's
WebSocket reconnects when the store restarts, and then polls the orders it still waits
for (it may have missed their last event while it was away). The report names a failed
request by the status the store answered, or by the type of the connection's error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TypedDict

import aiohttp
import orjson

from autogrocery.bench.stats import Recorder
from autogrocery.client import Account, ApiError, Disconnected, StoreClient

log = logging.getLogger(__name__)

FINAL = ("COMPLETED", "FAILED", "CANCELLED", "EXPIRED")
RECONNECT_MAX = 2.0  # seconds between WebSocket reconnection attempts, at most


EVENTS_HEARTBEAT = 30.0  # seconds
Order = dict[str, object]  # an order as the API answers it: the bench reads its status, total


class Line(TypedDict):
    """A line of an order preview."""

    sku: str
    quantity: int


def status_of(failure: ApiError | Disconnected) -> int | str:
    """What a failed request got, for the report: the store's status, or the type of
    the connection's error when no answer came."""
    if isinstance(failure, ApiError):
        return failure.status
    return type(failure.__cause__ or failure).__name__


@dataclass
class Device:
    """One fridge: its login, its event stream and the orders it waits for."""

    account: Account
    waiting: dict[str, asyncio.Future[Order]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    reconnects: int = 0

    @property
    def name(self) -> str:
        return self.account.username

    async def listen(self, client: StoreClient) -> None:
        ready = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._follow(client, ready))
        await ready

    async def _follow(self, client: StoreClient, ready: asyncio.Future[None]) -> None:
        """Read events; when the connection drops, connect again and catch up (a store
        with new keys refuses the login: the client logs in again)."""
        delay = 0.1
        while True:
            try:
                async with client.events(self.account, heartbeat=EVENTS_HEARTBEAT) as ws:
                    delay = 0.1
                    if not ready.done():
                        ready.set_result(None)
                    else:
                        self.reconnects += 1
                        await self._catch_up(client)
                    async for message in ws:
                        self._event(orjson.loads(message.data))
            except (ApiError, Disconnected, TimeoutError, aiohttp.ClientError, OSError):
                pass
            if not ready.done():
                ready.set_exception(ConnectionError(f"{self.name}: no event stream"))
                return
            await asyncio.sleep(delay)
            delay = min(RECONNECT_MAX, delay * 2)

    def _event(self, event: dict[str, object]) -> None:
        data = event.get("data", {})  # an order's event: the order
        if isinstance(data, dict) and data.get("status") in FINAL:
            waiter = self.waiting.pop(data.get("order_id", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)

    async def _catch_up(self, client: StoreClient) -> None:
        """After a reconnection: the orders still awaited may have finished meanwhile."""
        for order_id in list(self.waiting):
            with contextlib.suppress(ApiError, Disconnected):
                self._event({"data": await self.poll(client, order_id)})

    async def poll(self, client: StoreClient, order_id: str) -> Order:
        order: Order = await client.call("GET", f"/api/orders/{order_id}", account=self.account)
        return order

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)


@dataclass
class Shopper:
    """Builds orders of `items` lines over `aisles` aisles and runs them end to end."""

    client: StoreClient
    skus_by_aisle: dict[str, list[str]]
    items: int
    aisles: int
    recorder: Recorder
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    measuring: bool = False
    completion_timeout: float = 60.0

    def basket(self) -> list[Line]:
        aisles = self.rng.sample(
            sorted(self.skus_by_aisle), min(self.aisles, len(self.skus_by_aisle))
        )
        chosen: set[str] = set()
        for n in range(self.items):
            sku = self._another(self.skus_by_aisle[aisles[n % len(aisles)]], chosen)
            if sku is not None:  # else the aisle's SKUs are all in: a shorter basket
                chosen.add(sku)
        return [{"sku": sku, "quantity": 1} for sku in sorted(chosen)]

    def _another(self, skus: list[str], chosen: set[str]) -> str | None:
        """A SKU of `skus` not yet chosen, evenly. Drawn again on a repeat: filtering
        an aisle of 10,000 SKUs for each line cost the bench ~1 ms of CPU an order,
        taken from the store it measures on a small machine."""
        for _ in range(8):
            sku = self.rng.choice(skus)
            if sku not in chosen:
                return sku
        left = [sku for sku in skus if sku not in chosen]
        return self.rng.choice(left) if left else None

    async def order(self, device: Device) -> None:
        """One order end to end. It is counted in the report (successes, errors,
        failures, cancellations alike) only if it started inside the measured window;
        what it picked always counts, for the books."""
        record = self.recorder
        measuring = self.measuring

        def error(what: str, status: int | str) -> None:
            if measuring:
                record.error(what, status)

        call, account = self.client.call, device.account
        items = self.basket()
        started = time.perf_counter()
        try:
            preview = await call("POST", "/api/orders/preview", {"items": items}, account=account)
        except (ApiError, Disconnected) as failure:
            error("preview", status_of(failure))
            if measuring and isinstance(failure, ApiError) and failure.status == 409:
                short = [str(line["sku"]) for line in failure.shortages]
                record.refusal("short of stock" if short else failure.title, short)
            return
        previewed = time.perf_counter()
        if measuring:
            record.previews += 1
            record.preview.append(previewed - started)
        order_id = preview["order_id"]
        done = asyncio.get_running_loop().create_future()
        device.waiting[order_id] = done
        try:
            await call("POST", f"/api/orders/{order_id}/confirm", account=account)
        except (ApiError, Disconnected) as failure:
            error("confirm", status_of(failure))
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
        self, device: Device, order_id: str, done: asyncio.Future[Order]
    ) -> Order | None:
        """The final state from the event stream; if none came in time, ask once."""
        try:
            return await asyncio.wait_for(done, self.completion_timeout)
        except TimeoutError:
            device.waiting.pop(order_id, None)
        with contextlib.suppress(ApiError, Disconnected):
            order = await device.poll(self.client, order_id)
            if order["status"] in FINAL:
                return order
        return None

    async def _cancel(self, device: Device, order_id: str, counted: bool) -> bool:
        """A preview whose confirm failed holds stock: give it back. False when the
        store says it is no preview any more (it was confirmed after all). `counted`:
        the order is in the report."""
        record = self.recorder if counted else Recorder()
        try:
            await self.client.call("POST", f"/api/orders/{order_id}/cancel", account=device.account)
        except (ApiError, Disconnected) as failure:
            if isinstance(failure, ApiError) and failure.status == 409:
                return False
            record.error("cancel", status_of(failure))
        else:
            record.cancelled += 1
        return True

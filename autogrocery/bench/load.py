"""Simulated devices: preview + confirm, completion observed over each device's WebSocket."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from autogrocery.bench.stats import Recorder

JSON = {"Content-Type": "application/json"}


class RequestFailed(Exception):
    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what} {status}")
        self.key = f"{what} {status}"


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
    """One fridge: its token, its event stream and the orders it waits for."""

    name: str
    headers: dict[str, str]
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None

    async def listen(self, http: aiohttp.ClientSession) -> None:
        ready = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._read(http, ready))
        await ready

    async def _read(self, http: aiohttp.ClientSession, ready: asyncio.Future[None]) -> None:
        async with http.ws_connect("/api/events", headers=self.headers, heartbeat=30) as ws:
            ready.set_result(None)
            async for message in ws:
                event = orjson.loads(message.data)
                data = event["data"]
                if data.get("status") in ("COMPLETED", "FAILED"):
                    waiter = self.waiting.pop(data["order_id"], None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(data)

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
        record = self.recorder
        measuring = self.measuring
        items = self.basket()
        try:
            started = time.perf_counter()
            preview = await call(
                self.http,
                "POST",
                "/api/orders/preview",
                device.headers,
                {"items": items},
                "preview",
            )
            previewed = time.perf_counter()
            order_id = preview["order_id"]
            done = asyncio.get_running_loop().create_future()
            device.waiting[order_id] = done
            await call(
                self.http,
                "POST",
                f"/api/orders/{order_id}/confirm",
                device.headers,
                None,
                "confirm",
            )
            confirmed = time.perf_counter()
            outcome = await asyncio.wait_for(done, self.completion_timeout)
            finished = time.perf_counter()
        except RequestFailed as failure:
            record.errors[failure.key] += 1
            return
        except TimeoutError:
            record.errors["completion timeout"] += 1
            device.waiting.pop(order_id, None)
            return
        except aiohttp.ClientError as exc:
            record.errors[f"connection {type(exc).__name__}"] += 1
            return
        if outcome["status"] != "COMPLETED":
            record.failed += 1
            return
        for item in items:
            record.picked[item["sku"]] += item["quantity"]
        if outcome.get("total") != preview["total"]:
            record.total_mismatches += 1
        if measuring:
            record.completed += 1
            record.preview.append(previewed - started)
            record.confirm.append(confirmed - previewed)
            record.completion.append(finished - previewed)

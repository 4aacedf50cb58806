"""Orders over HTTP from several fridges at once, each acknowledgement recorded with the
wall-clock time it arrived: what a drill that kills the store checks afterwards."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

# The catalog's best-stocked SKUs (about 3,600 units): orders take one unit each.
SKUS = ["PRO-001", "PRO-006", "DAI-001", "PAR-011", "BRD-005", "PRO-005", "PRO-002", "PAR-003"]


def items(n: int, k: int) -> list[dict[str, object]]:
    return [{"sku": SKUS[(n + k) % len(SKUS)], "quantity": 1}]


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledged request: its Idempotency-Key, its order, when the answer came."""

    kind: str  # "preview" (201) or "confirm" (202)
    key: str
    order_id: str
    at: float  # time.time() when the answer arrived


@dataclass
class Load:
    url: str
    fridges: int = 6
    acks: list[Ack] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    async def register(self, http: aiohttp.ClientSession) -> None:
        for n in range(self.fridges):
            name = f"fridge-{n}"
            async with http.post(
                f"{self.url}/api/auth/register", json={"username": name, "password": f"{name}-pw1"}
            ) as r:
                assert r.status in (201, 409), r.status
            self.tokens[name] = await login(http, self.url, name, f"{name}-pw1")

    async def run(self, http: aiohttp.ClientSession, stop: asyncio.Event, limit: int) -> None:
        """Each fridge previews and confirms, one order after another, until `stop` or
        `limit` orders each."""
        await asyncio.gather(*(self._fridge(http, n, stop, limit) for n in range(self.fridges)))

    async def _fridge(
        self, http: aiohttp.ClientSession, n: int, stop: asyncio.Event, limit: int
    ) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[f'fridge-{n}']}"}
        for k in range(limit):
            if stop.is_set():
                return
            key = f"f{n}-o{k}"
            try:
                async with http.post(
                    f"{self.url}/api/orders/preview",
                    json={"items": items(n, k)},
                    headers={**headers, "Idempotency-Key": key},
                ) as r:
                    if r.status != 201:
                        continue
                    order_id = (await r.json())["order_id"]
                    self.acks.append(Ack("preview", key, order_id, time.time()))
                async with http.post(
                    f"{self.url}/api/orders/{order_id}/confirm",
                    headers={**headers, "Idempotency-Key": f"{key}-confirm"},
                ) as r:
                    if r.status == 202:
                        self.acks.append(Ack("confirm", f"{key}-confirm", order_id, time.time()))
            except (aiohttp.ClientError, OSError):
                return  # the store is gone


async def login(http: aiohttp.ClientSession, url: str, username: str, password: str) -> str:
    async with http.post(
        f"{url}/api/auth/login", json={"username": username, "password": password}
    ) as r:
        assert r.status == 200, r.status
        return str((await r.json())["access_token"])

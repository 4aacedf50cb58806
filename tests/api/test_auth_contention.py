"""Auth writes beside order load: contention for the database is waited out, never a 500.

The API's auth tables share the SQLite file with the actors, which commit a batch every
few milliseconds under load. A register or login that meets such a commit must wait
for it (the busy timeout), not fail with "database is locked" (issue 15, item 1).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Any

from tests.api.conftest import Api

ROUNDS = 6
PER_ROUND = 12  # concurrent register + login + refresh per round


async def _order_load(api: Api, stop: asyncio.Event, statuses: list[int]) -> int:
    """Previews and confirms from several devices (with Idempotency-Keys, so the API's
    own table is written too) until `stop`; returns how many orders were confirmed."""
    devices = [await api.device(f"loader-{n}") for n in range(6)]
    status, catalog, _ = await api.call("GET", "/api/catalog", devices[0])
    assert status == 200
    skus = [item["sku"] for item in catalog["items"]]
    keys = itertools.count()
    confirmed = 0

    async def shop(device: dict[str, str], seed: int) -> None:
        nonlocal confirmed
        rng = random.Random(seed)
        while not stop.is_set():
            items = [{"sku": s, "quantity": 1} for s in rng.sample(skus, 2)]
            headers = {**device, "Idempotency-Key": f"load-{next(keys)}"}
            response = await api.client.post(
                "/api/orders/preview", json={"items": items}, headers=headers
            )
            statuses.append(response.status)
            if response.status != 201:
                continue
            order_id = (await response.json())["order_id"]
            response = await api.client.post(f"/api/orders/{order_id}/confirm", headers=device)
            statuses.append(response.status)
            confirmed += response.status == 202

    await asyncio.gather(*(shop(device, n) for n, device in enumerate(devices)))
    return confirmed


async def _account_round(api: Api, round_no: int, statuses: list[int]) -> None:
    async def one(n: int) -> None:
        name = f"burst-{round_no}-{n}"
        response = await api.client.post(
            "/api/auth/register", json={"username": name, "password": "burst-password"}
        )
        statuses.append(response.status)
        response = await api.client.post(
            "/api/auth/login", json={"username": name, "password": "burst-password"}
        )
        statuses.append(response.status)
        if response.status != 200:
            return
        tokens: dict[str, Any] = await response.json()
        response = await api.client.post(
            "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        statuses.append(response.status)

    await asyncio.gather(*(one(n) for n in range(PER_ROUND)))


async def test_auth_writes_under_order_load_never_answer_5xx(make_api: Any) -> None:
    api: Api = await make_api("robots.per_aisle=2", "auth.login_ip_max_failures=1000")
    stop = asyncio.Event()
    order_statuses: list[int] = []
    auth_statuses: list[int] = []
    load = asyncio.create_task(_order_load(api, stop, order_statuses))
    try:
        started = time.monotonic()
        while len(order_statuses) < 50:  # the load is running before the first burst
            assert time.monotonic() - started < 30, "the order load never got going"
            assert not load.done(), load
            await asyncio.sleep(0.01)
        for round_no in range(ROUNDS):
            await _account_round(api, round_no, auth_statuses)
    finally:
        stop.set()
        confirmed = await asyncio.wait_for(load, 30)
    assert confirmed > 0
    assert len(auth_statuses) == ROUNDS * PER_ROUND * 3
    errors = [s for s in auth_statuses + order_statuses if s >= 500]
    assert errors == [], f"{len(errors)} answers were 5xx: {sorted(set(errors))}"
    assert set(auth_statuses) == {200, 201}, sorted(set(auth_statuses))

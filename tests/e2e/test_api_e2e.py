"""End to end: the real CLI serving real HTTP; a fridge orders, a truck restocks, an
operator watches, and SIGTERM stops it all within 5 seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.e2e.server import ADMIN_PASSWORD, TRUCK_PASSWORD, Server, start_server, stop_quietly

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path / "store")
    try:
        yield running
    finally:
        stop_quietly(running)


async def login(session: aiohttp.ClientSession, url: str, username: str, password: str) -> dict:
    async with session.post(
        f"{url}/api/auth/login", json={"username": username, "password": password}
    ) as response:
        assert response.status == 200
        tokens = await response.json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_a_fridge_a_truck_and_an_operator(server: Server) -> None:
    url = server.url
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/api/auth/register", json={"username": "fridge-1", "password": "fridge-pass-1"}
        ) as r:
            assert r.status == 201
        fridge = await login(http, url, "fridge-1", "fridge-pass-1")
        items = [
            {"sku": "BRD-001", "quantity": 2},
            {"sku": "MEA-002", "quantity": 1},
            {"sku": "PRO-003", "quantity": 3},
        ]
        async with http.post(
            f"{url}/api/orders/preview", json={"items": items}, headers=fridge
        ) as r:
            assert r.status == 201
            preview = await r.json()
        async with http.ws_connect(f"{url}/api/events", headers=fridge) as ws:
            async with http.post(
                f"{url}/api/orders/{preview['order_id']}/confirm", headers=fridge
            ) as r:
                assert r.status == 202
            statuses = []
            async with asyncio.timeout(15):
                while "COMPLETED" not in statuses:
                    event = orjson.loads((await ws.receive()).data)
                    if event["data"]["order_id"] == preview["order_id"]:
                        statuses.append(event["data"]["status"])
        assert statuses[-1] == "COMPLETED"
        async with http.get(f"{url}/api/orders/{preview['order_id']}", headers=fridge) as r:
            order = await r.json()
        assert order["status"] == "COMPLETED"
        assert order["total"] == preview["total"]
        expected = sum(int(ln["line_total"].replace(".", "")) for ln in preview["items"])
        assert int(order["total"].replace(".", "")) == expected

        truck = await login(http, url, "truck-1", TRUCK_PASSWORD)
        async with http.post(
            f"{url}/api/restocks",
            headers=truck,
            json={"items": [{"sku": "BRD-001", "quantity": 40, "unit_cost": "3.00"}]},
        ) as r:
            assert r.status == 202
            restock = await r.json()
        async with asyncio.timeout(15):
            while True:
                async with http.get(
                    f"{url}/api/restocks/{restock['restock_id']}", headers=truck
                ) as r:
                    if (await r.json())["status"] == "COMPLETED":
                        break
                await asyncio.sleep(0.05)

        operator = await login(http, url, "admin", ADMIN_PASSWORD)
        async with http.get(f"{url}/api/ops/movements?sku=BRD-001", headers=operator) as r:
            moves = (await r.json())["movements"]
        refs = {(m["type"], m["ref"]) for m in moves}
        assert ("OUT", preview["order_id"]) in refs
        assert ("IN", restock["restock_id"]) in refs
        async with http.get(f"{url}/metrics") as r:
            metrics = await r.text()
        assert 'autogrocery_orders{kind="CUSTOMER",status="COMPLETED"} 1.0' in metrics
        assert 'autogrocery_orders{kind="RESTOCK",status="COMPLETED"} 1.0' in metrics
        async with http.ws_connect(f"{url}/api/events", headers=operator) as ws:
            elapsed = await asyncio.to_thread(server.stop)
            closing = await asyncio.wait_for(ws.receive(), 5)
            assert closing.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            )
    assert server.process.returncode == 0
    assert elapsed < 5.0

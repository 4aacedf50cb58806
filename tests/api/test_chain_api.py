"""A store's chain endpoints over HTTP: its link to the head office and the transfers
it ships or receives, with a real leaf nats-server and relay (the hub is not there, so
the link stays down and events wait)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from autogrocery.chain import desk
from autogrocery.chain.protocol import Ship, TransferItem
from tests.api.conftest import Api, ApiFactory
from tests.api.test_live import next_event
from tests.chain.stores import linked, write_join
from tests.helpers import wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(60)


async def test_a_store_in_no_chain_says_so(api: Api) -> None:
    operator = await api.operator()
    status, problem, response = await api.call("GET", "/api/ops/chain", operator)
    assert status == 404
    assert response.content_type == "application/problem+json"
    assert "not in a chain" in problem["detail"]
    status, body, _ = await api.call("GET", "/api/ops/transfers", operator)
    assert (status, body) == (200, {"transfers": [], "next_cursor": None})


async def test_a_store_in_a_chain_shows_its_link_and_its_transfers(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    join = write_join(tmp_path / "north.join", "north")
    api = await make_api("robots.per_aisle=1", f"chain.join={join}")
    operator, device = await api.operator(), await api.device()
    async with linked(api.config, api.system):
        status, link, _ = await api.call("GET", "/api/ops/chain", operator)
        assert status == 200
        assert (link["store_id"], link["hub_connected"], link["catalog_version"]) == (
            "north",
            False,
            0,
        )
        _, preview, _ = await api.call(
            "POST",
            "/api/orders/preview",
            device,
            json={"items": [{"sku": "BRD-001", "quantity": 1}]},
        )
        await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device)
        await wait_final(api.system, [preview["order_id"]])

        async def waiting() -> dict | None:
            _, now, _ = await api.call("GET", "/api/ops/chain", operator)
            return now if now["outbox_pending"] >= 2 and now["oldest_pending_age_s"] > 0 else None

        await eventually(waiting, within=10)  # the head office is unreachable: events wait for it

        async with api.client.ws_connect("/api/events", headers=operator) as ws:
            order = await desk.ship(api.system, Ship("tr-9", "south", [TransferItem("BRD-002", 2)]))
            seen: list[str] = []
            deadline = asyncio.get_running_loop().time() + 10
            while not seen or seen[-1] != "transfer.updated":  # metrics ticks come between
                assert asyncio.get_running_loop().time() < deadline, f"no transfer.updated: {seen}"
                event = await next_event(ws, contract=api.contract)
                seen.append(event["type"])
            assert (event["data"]["transfer_id"], event["data"]["peer_store"]) == ("tr-9", "south")
        await eventually(lambda: _done(api, order.order_id), within=10)
        status, page, _ = await api.call("GET", "/api/ops/transfers?limit=5", operator)
        assert status == 200
        assert [(t["transfer_id"], t["kind"]) for t in page["transfers"]] == [
            ("tr-9", "TRANSFER_OUT")
        ]
        status, one, _ = await api.call("GET", "/api/ops/transfers/tr-9", operator)
        assert (status, one["status"], one["items"][0]["quantity"]) == (200, "COMPLETED", 2)
        assert (await api.call("GET", "/api/ops/transfers/nope", operator))[0] == 404
        assert (await api.call("GET", "/api/ops/chain", device))[0] == 403


async def _done(api: Api, order_id: str) -> bool:
    found, _ = await api.system.transfers(limit=5)
    return any(t.order_id == order_id and t.status == "COMPLETED" for t in found)

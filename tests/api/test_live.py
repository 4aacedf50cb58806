"""Live events over the WebSocket, health, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import orjson
import pykka
import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from tests.api.conftest import Api, ApiFactory
from tests.api.contract import Contract
from tests.helpers import wait_final


async def next_event(ws: object, within: float = 5.0, contract: Contract | None = None) -> dict:
    """The next frame, read as a browser reads it: a text frame holding one JSON event
    (JSON.parse(event.data) fails on a binary frame's Blob)."""
    message = await asyncio.wait_for(ws.receive(), within)  # type: ignore[attr-defined]
    assert message.type == WSMsgType.TEXT, message
    assert isinstance(message.data, str)
    event = dict(orjson.loads(message.data))
    if contract is not None:
        contract.event(event)  # the Event schema of the OpenAPI document
    return event


async def test_devices_follow_only_their_own_orders(api: Api) -> None:
    mine, other = await api.device("fridge-1"), await api.device("fridge-2")
    async with api.client.ws_connect("/api/events", headers=mine) as ws:
        await api.call(
            "POST",
            "/api/orders/preview",
            other,
            json={"items": [{"sku": "BRD-002", "quantity": 1}]},
        )
        _, preview, _ = await api.call(
            "POST", "/api/orders/preview", mine, json={"items": [{"sku": "BRD-002", "quantity": 1}]}
        )
        await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", mine)
        seen, seqs = [], []
        while not seen or seen[-1] != "COMPLETED":
            event = await next_event(ws, contract=api.contract)
            assert event["type"] == "order.updated"
            assert event["at"].endswith("Z")
            assert event["data"]["order_id"] == preview["order_id"]
            seen.append(event["data"]["status"])
            seqs.append(event["seq"])
        assert seen == ["PREVIEWED", "PROCESSING", "COMPLETED"]
        assert seqs == [1, 2, 3]


async def test_operators_see_everything_and_tokens_may_ride_the_query(api: Api) -> None:
    operator_tokens = await api.login("admin", "admin-password-1")
    device = await api.device()
    url = f"/api/events?token={operator_tokens['access_token']}"
    async with api.client.ws_connect(url) as ws:
        _, preview, _ = await api.call(
            "POST",
            "/api/orders/preview",
            device,
            json={"items": [{"sku": "PAR-010", "quantity": 1}]},
        )
        first: dict[str, dict] = {}  # the first event of each type: a preview makes few
        while not {"order.updated", "stock.changed"} <= first.keys() and len(first) < 10:
            event = await next_event(ws, contract=api.contract)
            first.setdefault(event["type"], event)
    # The device's order, which an operator did not place, and the stock it held.
    assert first["order.updated"]["data"]["order_id"] == preview["order_id"]
    assert first["order.updated"]["data"]["status"] == "PREVIEWED"
    assert first["stock.changed"]["data"]["sku"] == "PAR-010"


async def test_events_need_a_valid_token(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        with pytest.raises(WSServerHandshakeError) as refused:
            async with api.client.ws_connect("/api/events", headers=headers):
                pass
        assert refused.value.status == 401


async def test_health_readiness_and_a_dead_actor(make_api: ApiFactory) -> None:
    api = await make_api("robots.restart_delay=30")
    status, body, _ = await api.call("GET", "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, ready, _ = await api.call("GET", "/readyz")
    assert status == 200
    assert ready["checks"]["store"] == "ok"
    api.system.supervisor.refs["stock"].tell("poison")
    await asyncio.sleep(0)
    for _ in range(100):
        status, ready, _ = await api.call("GET", "/readyz")
        if ready["checks"]["stock"] == "down":
            break
        await asyncio.sleep(0.02)
    assert status == 503
    assert ready["checks"]["stock"] == "down"


async def test_metrics_expose_what_operators_graph(api: Api) -> None:
    device = await api.device()
    _, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "DAI-002", "quantity": 1}]}
    )
    await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device)
    await wait_final(api.system, [preview["order_id"]])
    for _ in range(100):
        status, text, response = await api.call("GET", "/metrics")
        if b'autogrocery_order_completion_seconds_count{kind="CUSTOMER"} 1.0' in text:
            break
        await asyncio.sleep(0.02)
    assert status == 200
    assert response.content_type == "text/plain"
    body = text.decode()
    for line in (
        'autogrocery_orders{kind="CUSTOMER",status="COMPLETED"} 1.0',
        'autogrocery_order_completion_seconds_count{kind="CUSTOMER"} 1.0',
        'autogrocery_http_requests_total{method="POST",route="/api/orders/preview",status="201"}',
        'autogrocery_robot_tasks_total{aisle="dairy",outcome="done"} 1.0',
        'autogrocery_robots_alive{aisle="dairy"} 1.0',
    ):
        assert line in body, line


async def test_operators_get_a_metrics_tick_every_second(api: Api) -> None:
    operator = await api.operator()
    device = await api.device()
    _, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "PRO-004", "quantity": 1}]}
    )
    async with api.client.ws_connect("/api/events", headers=operator) as ws:
        tick = None
        while tick is None:
            event = await next_event(ws, within=5.0)
            if event["type"] == "metrics.tick":
                tick = event["data"]
    assert tick["orders"]["customer"] == {"PREVIEWED": 1}
    assert tick["robots_alive"] == {a: 1 for a in ("bread", "dairy", "meat", "party", "produce")}
    assert tick["loop_lag_ms"] >= 0
    assert preview["status"] == "PREVIEWED"


async def test_a_slow_subscriber_is_told_how_many_events_it_lost_and_resyncs(
    make_api: ApiFactory,
) -> None:
    api = await make_api("api.event_buffer=16")
    device = await api.device()
    me = (await api.call("GET", "/api/auth/me", device))[1]["user_id"]
    async with api.client.ws_connect("/api/events", headers=device) as ws:
        _, preview, _ = await api.call(
            "POST",
            "/api/orders/preview",
            device,
            json={"items": [{"sku": "MEA-001", "quantity": 1}]},
        )
        first = await next_event(ws, contract=api.contract)
        assert (first["seq"], first["data"]["status"]) == (1, "PREVIEWED")
        # A burst of 100 events for this device faster than any socket can take them:
        # its connection holds 16, so 84 are lost.
        order = await api.system.get_order(preview["order_id"])
        for _ in range(100):
            api.system.events.publish("order.updated", order, owner=me)
        notice = await next_event(ws, contract=api.contract)
        assert notice["type"] == "events.dropped"
        assert notice["data"] == {"count": 84, "from_seq": 2}
        assert notice["seq"] == 85  # the last one lost: the numbering stays gapless
        kept = [await next_event(ws, contract=api.contract) for _ in range(16)]
        assert [e["seq"] for e in kept] == list(range(86, 102))
        assert {e["type"] for e in kept} == {"order.updated"}
        # Life goes on after the loss, and the documented GET gives the state back.
        await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device)
        after = await next_event(ws, contract=api.contract)
        assert (after["seq"], after["data"]["status"]) == (102, "PROCESSING")
        status, orders, _ = await api.call("GET", "/api/orders", device)
        assert status == 200
        assert [o["order_id"] for o in orders["orders"]] == [preview["order_id"]]


async def test_robot_updates_on_the_operator_socket_are_bounded_under_load(
    make_api: ApiFactory,
) -> None:
    """Every pick flips a robot busy and idle; the operator socket gets at most one
    robot.updated per robot per 250 ms, and the last one is the robot's final state."""
    api = await make_api("robots.pick_time=0.001")
    device, operator = await api.device(), await api.operator()
    _, catalog, _ = await api.call("GET", "/api/catalog", device)
    by_aisle: dict[str, list[str]] = {}
    for item in catalog["items"]:
        if item["available"] >= 20:
            by_aisle.setdefault(item["aisle"], []).append(item["sku"])
    frames: list[dict] = []
    async with api.client.ws_connect("/api/events", headers=operator) as ws:

        async def order(n: int) -> str:
            items = [{"sku": skus[n % len(skus)], "quantity": 1} for skus in by_aisle.values()]
            _, preview, _ = await api.call(
                "POST", "/api/orders/preview", device, json={"items": items}
            )
            await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device)
            return str(preview["order_id"])

        ids = await asyncio.gather(*(order(n) for n in range(40)))
        await wait_final(api.system, ids)
        _, robots, _ = await api.call("GET", "/api/ops/robots", operator)
        final = {r["robot_id"]: r for r in robots["robots"]}
        try:  # until the socket has been quiet for longer than one coalescing window
            while True:
                event = await next_event(ws, within=0.6, contract=api.contract)
                if event["type"] == "robot.updated":
                    frames.append(event)
        except TimeoutError:
            pass
    flips = 2 * sum(r["tasks_done"] for r in final.values())
    assert flips >= 2 * 40 * len(by_aisle)
    assert 0 < len(frames) < flips / 4
    last: dict[str, dict] = {}
    for event in frames:
        robot = event["data"]["robot_id"]
        if robot in last:
            gap = _seconds(event["at"]) - _seconds(last[robot]["at"])
            assert gap >= 0.24, (robot, last[robot]["at"], event["at"])
        last[robot] = event
    for robot_id, event in last.items():
        assert event["data"]["state"] == final[robot_id]["state"] == "idle"
        assert event["data"]["tasks_done"] == final[robot_id]["tasks_done"]


def _seconds(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


async def test_a_core_that_dies_too_often_makes_healthz_fail_so_the_process_is_restarted(
    make_api: ApiFactory,
) -> None:
    api = await make_api("robots.restart_delay=0.01")
    supervisor = api.system.supervisor
    for _ in range(30):  # kill the core until the supervisor gives up on it
        if supervisor.gave_up is not None:
            break
        with contextlib.suppress(pykka.ActorDeadError):  # dead already, not yet back
            supervisor.refs["stock"].tell("poison")
        for _ in range(200):
            await asyncio.sleep(0.01)
            if supervisor.gave_up is not None or supervisor.refs["stock"].is_alive():
                break
    assert supervisor.gave_up is not None
    status, health, _ = await api.call("GET", "/healthz")
    assert status == 503
    assert health["status"] == "unhealthy"
    assert "died" in health["reason"]
    status, ready, _ = await api.call("GET", "/readyz")
    assert status == 503
    assert ready["checks"]["core"].startswith("not restarted")
    text = await (await api.client.get("/metrics")).text()
    assert "autogrocery_core_given_up 1.0" in text


async def test_every_kind_of_event_an_operator_reads_matches_the_document(api: Api) -> None:
    """restock.updated, alert.raised and alert.cleared as well as the order and stock
    events: each frame on the operator socket is checked against the Event schema."""
    operator, truck = await api.operator(), await api.truck()
    seen: set[str] = set()
    async with api.client.ws_connect("/api/events", headers=operator) as ws:
        status, item, _ = await api.call("GET", "/api/ops/inventory", operator)
        bread = next(i for i in item["items"] if i["sku"] == "BRD-001")
        below = bread["available"] - bread["min_level"] + 1  # one under its min level
        status, _, _ = await api.call(
            "POST",
            "/api/ops/stock/BRD-001/adjust",
            operator,
            json={"delta": -below, "reason": "WASTE", "note": "dropped"},
        )
        assert status == 200
        await api.call(
            "POST",
            "/api/restocks",
            truck,
            json={"items": [{"sku": "BRD-001", "quantity": 100, "unit_cost": "3.10"}]},
        )
        wanted = {"stock.changed", "alert.raised", "restock.updated", "alert.cleared"}
        while not wanted <= seen:
            event = await next_event(ws, contract=api.contract)
            seen.add(event["type"])
            if event["type"].startswith("alert."):
                assert (event["data"]["sku"], event["data"]["kind"]) == ("BRD-001", "low")

"""Live events over the WebSocket, health, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from tests.api.conftest import Api, ApiFactory
from tests.helpers import wait_final


async def next_event(ws: object, within: float = 5.0) -> dict:
    message = await asyncio.wait_for(ws.receive(), within)  # type: ignore[attr-defined]
    assert message.type in (WSMsgType.BINARY, WSMsgType.TEXT), message
    return dict(orjson.loads(message.data))


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
        seen = []
        while not seen or seen[-1] != "COMPLETED":
            event = await next_event(ws)
            assert event["type"] == "order.updated"
            assert event["at"].endswith("Z")
            assert event["data"]["order_id"] == preview["order_id"]
            seen.append(event["data"]["status"])
        assert seen == ["PREVIEWED", "PROCESSING", "COMPLETED"]


async def test_operators_see_everything_and_tokens_may_ride_the_query(api: Api) -> None:
    operator_tokens = await api.login("admin", "admin-password-1")
    device = await api.device()
    url = f"/api/events?token={operator_tokens['access_token']}"
    async with api.client.ws_connect(url) as ws:
        await api.call(
            "POST",
            "/api/orders/preview",
            device,
            json={"items": [{"sku": "PAR-010", "quantity": 1}]},
        )
        types = set()
        while not {"order.updated", "stock.changed"} <= types:
            types.add((await next_event(ws))["type"])


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
    api.system.supervisor.refs["pricing"].tell("poison")
    await asyncio.sleep(0)
    for _ in range(100):
        status, ready, _ = await api.call("GET", "/readyz")
        if ready["checks"]["pricing"] == "down":
            break
        await asyncio.sleep(0.02)
    assert status == 503
    assert ready["checks"]["pricing"] == "down"


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

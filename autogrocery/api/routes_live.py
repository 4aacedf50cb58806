"""Live events over a WebSocket, health, readiness, Prometheus metrics and OpenAPI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from importlib import resources

from aiohttp import WSMsgType, web

from autogrocery.api.bodies import json_response
from autogrocery.api.context import principal, state
from autogrocery.domain import events as event_types
from autogrocery.domain.errors import DomainError

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

OPENAPI = resources.files("autogrocery.api").joinpath("openapi.json").read_bytes()

DEVICE_EVENTS = (event_types.ORDER_UPDATED,)
TRUCK_EVENTS = (event_types.RESTOCK_UPDATED,)


@routes.get("/api/events")
async def events(request: web.Request) -> web.StreamResponse:
    caller = principal(request, allow_query_token=True)
    api = state(request)
    if caller.role == "operator":
        subscription = api.system.subscribe()
    else:
        types = DEVICE_EVENTS if caller.role == "device" else TRUCK_EVENTS
        subscription = api.system.subscribe(types, owner=caller.user_id)
    ws = web.WebSocketResponse(heartbeat=20.0)
    await ws.prepare(request)
    api.websockets.add(ws)

    async def pump() -> None:
        async for event in subscription:
            await ws.send_bytes(_frame(event.to_json()))

    sender = asyncio.create_task(pump())
    try:
        async for message in ws:  # clients only listen; anything they send is ignored
            if message.type == WSMsgType.ERROR:
                break
    finally:
        subscription.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
    return ws


def _frame(data: dict[str, object]) -> bytes:
    import orjson

    return orjson.dumps(data)


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    api = state(request)
    checks: dict[str, str] = {}
    for name, alive in api.system.health().items():
        checks[name] = "ok" if alive else "down"
    try:
        await asyncio.wait_for(api.system.ping_all(), 2.0)
    except (DomainError, TimeoutError) as exc:
        checks["actors"] = f"not answering: {exc}"
    try:
        await asyncio.wait_for(api.tables.writable(), 2.0)
        checks["store"] = "ok"
    except Exception as exc:  # the store's failure is the report, not a crash
        checks["store"] = f"not writable: {exc}"
    ready = all(value == "ok" for value in checks.values())
    return json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    api = state(request)
    counts = await api.system.order_counts()
    return web.Response(
        body=api.metrics.render(counts),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


@routes.get("/api/openapi.json")
async def openapi(_: web.Request) -> web.Response:
    return web.Response(body=OPENAPI, content_type="application/json")

"""Live events over a WebSocket, health, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from autogrocery.api.bodies import json_response
from autogrocery.api.context import CALLER, state
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.api.schemas import REF, Health, Readiness
from autogrocery.domain import events as event_types
from autogrocery.domain.errors import DomainError

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

NOT_READY_RETRY_AFTER = 5  # seconds, on a 503 from /readyz
DEVICE_EVENTS = (event_types.ORDER_UPDATED,)
TRUCK_EVENTS = (event_types.RESTOCK_UPDATED,)

EVENTS_DESCRIPTION = """\
A WebSocket. Authenticate with `Authorization: Bearer <token>` or, where a client cannot
set headers (browsers), `?token=<token>`. Each server message is one **text** frame
holding one JSON `Event`: `{type, seq, at, data}`. Devices receive their own orders'
`order.updated`, trucks their own restocks' `restock.updated`, operators everything.

`seq` counts this connection's events: 1, 2, 3, ... without gaps. A client that reads
too slowly loses the oldest events (more than `api.event_buffer` behind, default 10,000)
and then gets one `events.dropped` event `{count, from_seq}` in their place (its own seq
is that of the last event lost). To resync, read the state again: a device
`GET /api/orders` (or `GET /api/orders/{order_id}`), a truck `GET /api/restocks`, an
operator also `GET /api/ops/inventory`, `/api/ops/robots` and `/api/ops/alerts`.

`robot.updated` comes at most once per robot per 250 ms, with the robot's latest state.
`metrics.tick` comes once a second. The server pings every 20 s; anything the client
sends is ignored."""


@routes.get("/api/events")
@documented(
    Operation(
        "streamEvents",
        "Live events (WebSocket)",
        "live",
        roles=(),
        replies=(
            Reply(
                101,
                "Switching protocols: the connection is now a WebSocket of Event text frames.",
            ),
        ),
        problems=(400,),
        security=("bearerAuth", "queryToken"),
        description=EVENTS_DESCRIPTION,
        extra={"x-websocket-message": {"$ref": REF + "Event"}},
    )
)
async def events(request: web.Request) -> web.StreamResponse:
    caller = request[CALLER]
    api = state(request)
    if caller.role == "operator":
        types, owner = None, None
    else:
        types = DEVICE_EVENTS if caller.role == "device" else TRUCK_EVENTS
        owner = caller.user_id
    ws = web.WebSocketResponse(heartbeat=20.0)
    await ws.prepare(request)
    api.websockets.add(ws)
    subscription = api.system.events.subscribe(
        asyncio.get_running_loop(), types, owner, maxsize=api.event_buffer
    )

    async def pump() -> None:
        with contextlib.suppress(StopAsyncIteration):  # the store is stopping
            while True:
                seq, event = await subscription.receive()
                if revoked(caller.user_id, caller.jti, caller.family):  # logout, disable
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"token revoked")
                    return
                # JSON goes out in text frames: a browser's JSON.parse(event.data) needs them.
                frame = {"type": event.type, "seq": seq, "at": event.at, "data": event.data}
                await ws.send_frame(orjson.dumps(frame), WSMsgType.TEXT)

    revoked = api.auth.revocations.why_dead
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


@routes.get("/healthz")
@documented(
    Operation(
        "healthz",
        "Liveness",
        "operations",
        roles=None,
        replies=(
            Reply(200, "The process runs and can serve.", Health),
            Reply(
                503,
                "The process should be restarted: its core died more often than it is "
                "restarted, or its database file was deleted or replaced (a supervisor "
                "such as systemd or Kubernetes should act). With Retry-After.",
                Health,
            ),
        ),
    )
)
async def healthz(request: web.Request) -> web.Response:
    reason = state(request).system.alive()
    if reason is not None:
        # Retry-After as on every 503: when a supervisor's restart should be done.
        return json_response(
            {"status": "unhealthy", "reason": reason},
            status=503,
            headers={"Retry-After": str(NOT_READY_RETRY_AFTER)},
        )
    return json_response({"status": "ok"})


@routes.get("/readyz")
@documented(
    Operation(
        "readyz",
        "Readiness",
        "operations",
        roles=None,
        replies=(
            Reply(
                200,
                "Every actor answers, the store is writable and every background task runs.",
                Readiness,
            ),
            Reply(503, "Not ready; `checks` says what is not (with Retry-After).", Readiness),
        ),
    )
)
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
    checks.update(api.system.problems())
    for name, status in api.background.status().items():
        checks[f"task {name}"] = status
    ready = all(value == "ok" for value in checks.values())
    answer: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": checks}
    if api.system.replication is not None:  # shown, never a reason to be unready
        answer["replication"] = dataclasses.asdict(api.system.replication())
    return json_response(
        answer,
        status=200 if ready else 503,
        headers=None if ready else {"Retry-After": str(NOT_READY_RETRY_AFTER)},
    )


@routes.get("/metrics")
@documented(
    Operation(
        "metrics",
        "Prometheus metrics",
        "operations",
        roles=None,
        replies=(
            Reply(
                200,
                "Text exposition 0.0.4: orders by kind and status, completion latency, HTTP "
                "requests by route and status, robot tasks and robots alive by aisle.",
                media="text/plain",
                schema={"type": "string"},
            ),
        ),
    )
)
async def metrics(request: web.Request) -> web.Response:
    api = state(request)
    counts = await api.system.order_counts()
    return web.Response(
        body=api.metrics.render(counts),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )

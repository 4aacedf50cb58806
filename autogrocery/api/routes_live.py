"""Live events over a WebSocket, health, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from aiohttp import WSCloseCode, WSMsgType, web

from autogrocery.api.bodies import json_response
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.api.readiness import NOT_READY_RETRY_AFTER, readiness
from autogrocery.api.state import CALLER, state
from autogrocery.api.streams import WRITE_CHUNK, bound_buffers, hang_up
from autogrocery.contract.base import REF
from autogrocery.contract.ops import Health, Readiness
from autogrocery.domain import events as event_types
from autogrocery.domain.errors import DomainError
from autogrocery.runtime.eventbus import frame

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

DEVICE_EVENTS = (event_types.ORDER_UPDATED,)
TRUCK_EVENTS = (event_types.RESTOCK_UPDATED,)
HEARTBEAT = 20.0  # seconds between pings; a pong missing for half that hangs up

EVENTS_DESCRIPTION = """\
A WebSocket. Authenticate with `Authorization: Bearer <token>` or, where a client cannot
set headers (browsers), `?token=<token>`. Each server message is one **text** frame
holding one JSON `Event`: `{type, seq, at, data}`. Devices receive their own orders'
`order.updated`, trucks their own restocks' `restock.updated`, operators everything.

`seq` counts this connection's events: 1, 2, 3, ... without gaps. A client that reads
too slowly loses the oldest events (more than `api.event_buffer` events, default 10,000,
or `api.event_buffer_bytes` of them, default 256 KiB, behind) and then gets one
`events.dropped` event `{count, from_seq}` in their place (its own seq is that of the
last event lost). To resync, read the state again: a device
`GET /api/orders` (or `GET /api/orders/{order_id}`), a truck `GET /api/restocks`, an
operator also `GET /api/ops/inventory`, `/api/ops/robots` and `/api/ops/alerts`.

`robot.updated` comes at most once per robot per 250 ms, with the robot's latest state.
`metrics.tick` comes once a second. The server pings every 20 s and hangs up on a client
that has not answered within 10 s (one that reads nothing); anything the client sends
is ignored. When the server stops, it closes each stream with 1001 (going away)."""


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
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, writer_limit=WRITE_CHUNK)
    await ws.prepare(request)
    transport = request.transport
    if transport is None:  # the client is gone already
        return ws
    bound_buffers(transport, api.event_send_buffer)
    api.websockets[ws] = transport
    subscription = api.system.events.subscribe(
        asyncio.get_running_loop(),
        types,
        owner,
        maxsize=api.event_buffer,
        max_bytes=api.event_buffer_bytes,
    )

    async def pump() -> None:
        # Ends without an exception, or one would keep this frame, and with it the
        # subscription and every event it holds, alive in a reference cycle (the task
        # holds its exception, whose traceback holds the frames) until a full garbage
        # collection, which a store serving for days may not run for hours.
        try:
            while True:
                seq, _, body = await subscription.receive_encoded()
                if revoked(caller.user_id, caller.jti, caller.family):  # logout, disable
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"token revoked")
                    return
                # JSON goes out in text frames: a browser's JSON.parse(event.data) needs them.
                await ws.send_frame(frame(seq, body), WSMsgType.TEXT)
        except (StopAsyncIteration, ConnectionError):  # the store stops; the client is gone
            return

    revoked = api.auth.revocations.why_dead
    sender = asyncio.create_task(pump())
    try:
        async for message in ws:  # clients only listen; anything they send is ignored
            if message.type == WSMsgType.ERROR:
                break
    finally:
        api.websockets.pop(ws, None)
        subscription.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        del sender, pump  # nothing of this frame stays reachable from a traceback
        api.memory.soon()
        await hang_up(transport)
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
    replication = api.system.replication
    shown: dict[str, object] | None = None
    if replication is not None:  # shown, never a reason to be unready
        shown = {"replication": dataclasses.asdict(replication())}
    return readiness(request, checks, shown)


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

"""Health, readiness and Prometheus metrics of the head office."""

from __future__ import annotations

import asyncio

from aiohttp import web

from autogrocery.api.bodies import json_response
from autogrocery.api.openapi import Operation, Reply, documented
from autogrocery.api.readiness import readiness
from autogrocery.central.schemas import HeadOfficeHealth, Readiness
from autogrocery.central.state import central
from autogrocery.probe import ROLE_HEAD_OFFICE

routes = web.RouteTableDef()
CHECK_TIMEOUT = 3.0


@routes.get("/healthz")
@documented(
    Operation(
        "healthz",
        "Liveness",
        "operations",
        roles=None,
        replies=(
            Reply(
                200,
                "The process runs and can serve; `role` says a head office answers here "
                "(a store's /healthz has no role).",
                HeadOfficeHealth,
            ),
        ),
    )
)
async def healthz(_: web.Request) -> web.Response:
    return json_response({"status": "ok", "role": ROLE_HEAD_OFFICE})


@routes.get("/readyz")
@documented(
    Operation(
        "readyz",
        "Readiness",
        "operations",
        roles=None,
        replies=(
            Reply(
                200, "The hub is healthy, the read model writable, the applier alive.", Readiness
            ),
            Reply(503, "Not ready; `checks` says what is not (with Retry-After).", Readiness),
        ),
    )
)
async def readyz(request: web.Request) -> web.Response:
    state = central(request)
    loop = asyncio.get_running_loop()
    checks: dict[str, str] = {}
    nodes: dict[str, str] = {}
    try:
        healthy = await asyncio.wait_for(
            loop.run_in_executor(None, state.links.hub_healthy), CHECK_TIMEOUT
        )
        checks["hub"] = "ok" if healthy else "not healthy (see hub/hub.log)"
        nodes = await asyncio.wait_for(
            loop.run_in_executor(None, state.links.hub_nodes), CHECK_TIMEOUT
        )
    except TimeoutError:
        checks["hub"] = checks.get("hub", "does not answer")
    try:
        await asyncio.wait_for(state.model.writable(), CHECK_TIMEOUT)
        checks["read model"] = "ok"
    except Exception as exc:  # the failure is the report
        checks["read model"] = f"not writable: {exc}"
    checks.update(state.links.status())
    return readiness(request, checks, {"hub_nodes": nodes} if nodes else None)


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
                "Text exposition 0.0.4: per store up, lag_events, last seen, catalog "
                "version, events applied, duplicates and refused; per intake shard its "
                "stores, lag_events, pending_messages, behind_seconds and events "
                "applied; transfers by status; HTTP requests by route and status.",
                media="text/plain",
                schema={"type": "string"},
            ),
        ),
    )
)
async def metrics(request: web.Request) -> web.Response:
    state = central(request)
    model = state.model
    stores, transfers, unattributed = await asyncio.gather(
        model.stores(), model.transfer_counts(), model.refused_unattributed()
    )
    return web.Response(
        body=state.metrics.render(stores, transfers, unattributed, state.links.shards()),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )

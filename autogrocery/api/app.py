"""The aiohttp application: one door for devices, trucks, operators and the dashboard."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import shlex
import sys
import time
from collections.abc import AsyncIterator

import orjson
from aiohttp import WSCloseCode, web

from autogrocery import __version__
from autogrocery.actors.system import System
from autogrocery.api import (
    compat,
    routes_accounts,
    routes_auth,
    routes_chain,
    routes_commands,
    routes_docs,
    routes_live,
    routes_ops,
    routes_orders,
)
from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth import BOOTSTRAP, Auth, AuthSettings, Bootstrapped, load_secret
from autogrocery.api.bodies import MAX_BODY
from autogrocery.api.context import DOCUMENT, LIMITS, REQUEST_ID, STATE, ApiState, Limits
from autogrocery.api.cors import cors_middleware
from autogrocery.api.metrics import ApiMetrics
from autogrocery.api.openapi import build_document
from autogrocery.api.problems import Handler, error_response
from autogrocery.config import Config
from autogrocery.domain.events import METRICS_TICK
from autogrocery.store.db import DB_NAME

log = logging.getLogger(__name__)

IDEMPOTENCY_PURGE_INTERVAL = 3600.0
TICK_INTERVAL = 1.0


_REQUEST_IDS = itertools.count(1)
_ID_PREFIX = secrets.token_hex(4)  # this process's; ids stay unique across restarts


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request ids, HTTP metrics by route (the pattern, never the raw path), and every
    error as problem+json. One middleware: each layer costs every request."""
    request_id = request.headers.get("X-Request-Id", "")[:64] or (
        f"{_ID_PREFIX}-{next(_REQUEST_IDS):x}"
    )
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Exception as error:
        response = error_response(error, request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[STATE].metrics.observe_request(
        route, request.method, response.status, time.perf_counter() - started
    )
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response


def create_app(
    config: Config, system: System, *, environ: dict[str, str] | None = None
) -> web.Application:
    cors = cors_middleware(config.api.origins())
    middlewares = [observe] if cors is None else [cors, observe]
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
    for module in (
        routes_auth,
        routes_orders,
        routes_ops,
        routes_accounts,
        routes_commands,
        routes_chain,
        routes_live,
        routes_docs,
    ):
        app.add_routes(module.routes)
    if config.compat.original:  # the original devices' API, outside our document
        compat.install(app, config)
    document = build_document(
        app.router, max_quantity=config.orders.max_quantity, max_lines=config.orders.max_lines
    )
    app[DOCUMENT] = orjson.dumps(document)
    api = config.api
    app[LIMITS] = Limits(api.header_timeout, api.body_timeout, api.max_connections)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        secret = await loop.run_in_executor(
            None, load_secret, config.auth.jwt_secret, config.data_path
        )
        tables = await AuthTables.open(config.data_path / DB_NAME, system.check_store_file)
        a = config.auth
        settings = AuthSettings(
            a.bcrypt_cost,
            a.access_ttl,
            a.refresh_ttl,
            a.login_max_failures,
            a.login_ip_max_failures,
            a.login_window,
        )
        auth = Auth(settings, secret, tables)
        hub = system.supervisor.hub
        metrics = ApiMetrics(
            hub.robots,
            getattr(hub, "channel_stats", None),
            system.batch_stats,
            system.vitals,
            {
                "version": __version__,
                "robots": config.transport.robots,
                "metrics": config.transport.metrics,
            },
        )
        app[STATE] = state = ApiState(
            system,
            auth,
            tables,
            metrics,
            config.auth.idempotency_ttl,
            config.api.event_buffer,
        )
        system.watch_metrics(metrics.finished)
        await auth.load()
        report_bootstrap(await auth.bootstrap(environ))
        ttl = config.auth.idempotency_ttl
        state.background.start("loop-lag", metrics.watch_loop)
        state.background.start("idempotency-purge", lambda: _purge_idempotency(tables, ttl))
        state.background.start("metrics-tick", lambda: _tick(system, metrics))
        try:
            yield
        finally:
            await state.background.stop()
            # Waits for a hash in flight: off the loop, like every bcrypt call.
            await asyncio.get_running_loop().run_in_executor(None, auth.close)
            await tables.close()

    async def close_websockets(app: web.Application) -> None:
        for ws in list(app[STATE].websockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(close_websockets)
    return app


def report_bootstrap(done: Bootstrapped) -> None:
    """Tell the operator, on stderr at start (before any dashboard takes the terminal),
    the passwords generated for the first accounts: printed once, never logged, with the
    `export` line that puts them where the README's examples, `autogrocery dashboard
    --url` and `autogrocery bench --url` read them. And say when a bootstrap password
    in the environment was ignored."""
    for username, password in done.generated:
        print(f"autogrocery: created account {username} with password {password}", file=sys.stderr)
    if done.generated:
        variables = {username: variable for username, _, variable in BOOTSTRAP}
        exports = " ".join(
            f"{variables[username]}={shlex.quote(password)}"
            for username, password in done.generated
        )
        print(
            "autogrocery: they are shown only now; to use them from a shell (the README's API "
            "examples, `autogrocery dashboard --url`), run this in it:",
            file=sys.stderr,
        )
        print(f"  export {exports}", file=sys.stderr)
    for variable in done.ignored:
        print(
            f"autogrocery: warning: {variable} is ignored: its account exists already with "
            "another password (change it with `autogrocery accounts set-password`)",
            file=sys.stderr,
        )
    sys.stderr.flush()


async def _tick(system: System, metrics: ApiMetrics, every: float = TICK_INTERVAL) -> None:
    """A `metrics.tick` event for operators each second: orders by kind and status,
    robots alive by aisle, and the event loop's worst lag of the last second."""
    while True:
        await asyncio.sleep(every)
        try:
            counts = await system.order_counts()
            robots = await system.robots()
        except Exception:  # the store is stopping, or the read failed: try next second
            log.debug("metrics tick skipped", exc_info=True)
            continue
        orders: dict[str, dict[str, int]] = {}
        for kind, status, count in counts:
            orders.setdefault(kind.lower(), {})[status] = count
        alive: dict[str, int] = {}
        for robot in robots:
            alive[robot["aisle"]] = alive.get(robot["aisle"], 0) + (robot["state"] != "offline")
        tick = {
            "orders": orders,
            "robots_alive": alive,
            "loop_lag_ms": round(metrics.last_loop_lag * 1000, 2),
        }
        system.events.publish(METRICS_TICK, tick)


async def _purge_idempotency(tables: AuthTables, ttl: float) -> None:
    while True:
        await tables.forget_idempotency_before(time.time() - ttl)
        await asyncio.sleep(IDEMPOTENCY_PURGE_INTERVAL)

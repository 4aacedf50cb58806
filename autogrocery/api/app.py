"""The aiohttp application: one door for devices, trucks, operators and the dashboard."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import orjson
from aiohttp import web

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
    streams,
)
from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth import Auth, AuthSettings
from autogrocery.api.bodies import MAX_BODY
from autogrocery.api.context import CORE, DOCUMENT, LIMITS, STATE, ApiState, Limits
from autogrocery.api.core import observe
from autogrocery.api.cors import cors_middleware
from autogrocery.api.first_start import report_bootstrap
from autogrocery.api.idempotency import purge_idempotency
from autogrocery.api.metrics import ApiMetrics
from autogrocery.api.openapi import build_document
from autogrocery.api.tokens import load_secret
from autogrocery.config import Config
from autogrocery.domain.events import METRICS_TICK
from autogrocery.store.db import DB_NAME

log = logging.getLogger(__name__)

TICK_INTERVAL = 1.0


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
    app[LIMITS] = Limits(
        api.header_timeout, api.body_timeout, api.max_connections, api.max_connections_per_client
    )

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
            config.api.event_buffer_bytes,
            config.api.event_send_buffer,
        )
        app[CORE] = state.core
        system.watch_metrics(metrics.finished)
        await auth.load()
        report_bootstrap(await auth.bootstrap(environ))
        ttl = config.auth.idempotency_ttl
        state.background.start("loop-lag", metrics.watch_loop)
        state.background.start("idempotency-purge", lambda: purge_idempotency(tables, ttl))
        state.background.start("metrics-tick", lambda: _tick(system, metrics))
        try:
            yield
        finally:
            await state.background.stop()
            state.memory.cancel()
            # Waits for a hash in flight: off the loop, like every bcrypt call.
            await asyncio.get_running_loop().run_in_executor(None, auth.close)
            await tables.close()

    async def close_websockets(app: web.Application) -> None:
        await streams.close_all(app[STATE].websockets)  # within CLOSE_WITHIN seconds

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(close_websockets)
    return app


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

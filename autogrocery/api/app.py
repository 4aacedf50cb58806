"""The aiohttp application: one door for devices, trucks, operators and the dashboard."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import TypeVar

from aiohttp import web

from autogrocery import __version__
from autogrocery.api import (
    compat,
    routes_accounts,
    routes_auth,
    routes_chain,
    routes_commands,
    routes_docs,
    routes_live,
    routes_markdowns,
    routes_notifications,
    routes_ops,
    routes_orders,
    routes_reports,
    routes_webhooks,
    streams,
)
from autogrocery.api.auth_store import Sql
from autogrocery.api.bodies import MAX_BODY
from autogrocery.api.core import connection_limits, observe
from autogrocery.api.cors import cors_middleware
from autogrocery.api.document import ServedDocument
from autogrocery.api.idempotency import purge_idempotency
from autogrocery.api.lifespan import SIGN_IN, SignInSetup
from autogrocery.api.mail_planner import PLANNER, MailPlanner
from autogrocery.api.mail_report import daily_sections
from autogrocery.api.mailer import Mailer, plan_forever
from autogrocery.api.metrics import ApiMetrics
from autogrocery.api.notice_watch import NoticeWatch
from autogrocery.api.openapi import build_document, check_documented
from autogrocery.api.state import (
    CONNECTION_LIMITS,
    CORE,
    DOCUMENT,
    STATE,
    ApiState,
)
from autogrocery.api.webhooks import NOTIFIER, Notifier
from autogrocery.config import Config
from autogrocery.domain.events import ALERT_CLEARED, ALERT_RAISED, METRICS_TICK
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME

log = logging.getLogger(__name__)
T = TypeVar("T")

SMTP_PASSWORD = "AUTOGROCERY_SMTP_PASSWORD"  # noqa: S105  # its name: the value is not in the config
TICK_INTERVAL = 1.0
SEARCH_INDEX_INTERVAL = 60.0  # s: how soon an unsearched new product is indexed


class StoreWriter:
    """The API's writes go through the store's one writer, the actors' shared connection
    (looked up when first used: an app built only for its document has no store)."""

    def __init__(self, system: System) -> None:
        self.system = system

    def __call__(self, work: Callable[[Sql], T], /) -> T:
        return self.system.store_connection().run_write(work)


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
        routes_reports,
        routes_markdowns,
        routes_accounts,
        routes_commands,
        routes_chain,
        routes_webhooks,
        routes_notifications,
        routes_live,
        routes_docs,
    ):
        app.add_routes(module.routes)
    sign_in = SignInSetup(
        config.auth,
        config.data_path,
        config.data_path / DB_NAME,
        StoreWriter(system),
        environ=environ,
    )
    app.cleanup_ctx.append(sign_in)
    if config.compat.original:  # the original devices' API, outside our document
        compat.install(app, config)
    check_documented(app.router)
    app[DOCUMENT] = ServedDocument(
        partial(
            build_document,
            app.router,
            max_quantity=config.orders.max_quantity,
            max_lines=config.orders.max_lines,
        )
    )
    app[CONNECTION_LIMITS] = connection_limits(config.api)

    app.cleanup_ctx.append(partial(_state, config, system))
    app.cleanup_ctx.append(partial(_background, config, system, environ))

    async def close_websockets(app: web.Application) -> None:
        await streams.close_all(app[STATE].websockets)  # within CLOSE_WITHIN seconds

    app.on_shutdown.append(close_websockets)
    return app


async def _state(config: Config, system: System, app: web.Application) -> AsyncIterator[None]:
    """The store's API state, on the sign-in: app[STATE] (and app[CORE]) while it runs."""
    hub = system.robot_hub
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
    sign_in = app[SIGN_IN]
    api = config.api
    app[STATE] = state = ApiState(
        system,
        sign_in.auth,
        sign_in.tables,
        metrics,
        config.auth.idempotency_ttl,
        api.event_buffer,
        api.event_buffer_bytes,
        api.event_send_buffer,
    )
    app[CORE] = state.core
    system.watch_metrics(metrics.finished)
    try:
        yield
    finally:
        state.memory.cancel()


async def _background(
    config: Config, system: System, environ: dict[str, str] | None, app: web.Application
) -> AsyncIterator[None]:
    """The store API's background tasks, stopped first at the end."""
    state = app[STATE]
    tables, metrics, ttl = state.tables, state.metrics, config.auth.idempotency_ttl
    state.background.start("loop-lag", metrics.watch_loop)
    state.background.start("idempotency-purge", lambda: purge_idempotency(tables, ttl))
    state.background.start("metrics-tick", lambda: _tick(system, metrics))
    at_start = config.api.search_index_at_start
    state.background.start("search-index", lambda: _index_catalog(system, at_start))
    alerts = (ALERT_RAISED, ALERT_CLEARED)
    notifier = app[NOTIFIER] = Notifier(
        tables, config.notify, metrics.count_delivery, lambda: system.subscribe(alerts)
    )
    state.background.start("webhooks", notifier.run)
    notify, stock = config.notify, config.stock
    reporter = partial(daily_sections, system)
    mailing = bool(notify.smtp_host)
    planner = app[PLANNER] = MailPlanner(
        tables, notify.daily_at, stock.zone(), reporter, mailing, system.clock
    )
    state.background.start("mail-plan", lambda: plan_forever(planner))
    if mailing:
        password = (os.environ if environ is None else environ).get(SMTP_PASSWORD)
        mailer = Mailer(tables, notify, password, metrics.count_mail)
        state.background.start("mail-send", mailer.run)
    watch = NoticeWatch(tables, system.robots, system.vitals, notify.head_office_after)
    state.background.start("notice-watch", watch.run)
    try:
        yield
    finally:
        await state.background.stop()


async def _index_catalog(
    system: System, at_start: bool, every: float = SEARCH_INDEX_INTERVAL
) -> None:
    """The catalog's search index built at start (not by the first search, which would
    wait for it) unless not `at_start`, and again within `every` seconds of a product
    added or renamed once it was built."""
    described = system.described
    while True:
        if at_start or described.builds:
            try:
                await described.products()
            except Exception:  # the store is stopping, or stock is busy: try again later
                log.debug("search index not built", exc_info=True)
        await asyncio.sleep(every)


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
            alive[robot.aisle] = alive.get(robot.aisle, 0) + (robot.state != "offline")
        tick = {
            "orders": orders,
            "robots_alive": alive,
            "loop_lag_ms": round(metrics.last_loop_lag * 1000, 2),
        }
        system.events.publish(METRICS_TICK, tick)

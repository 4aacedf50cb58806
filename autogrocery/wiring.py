"""Wiring: config → store file → transports → supervisor → `System`."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from autogrocery.actors.fulfilment import RobotPolicy
from autogrocery.actors.supervisor import Settings, Supervisor
from autogrocery.api.views import encode_event
from autogrocery.config import Config
from autogrocery.domain import events as event_types
from autogrocery.domain.catalog import load_catalog
from autogrocery.domain.pricing import PricingRule
from autogrocery.runtime.context import Context
from autogrocery.runtime.eventbus import EventBus
from autogrocery.runtime.scheduler import Scheduler
from autogrocery.service.system import OrderLimits, System
from autogrocery.store.db import open_store
from autogrocery.store.history_keeper import HistoryKeeper, Retention
from autogrocery.store.reads import Reader
from autogrocery.transports.base import LocalRobotHub, MetricsChannel
from autogrocery.transports.fleet import Fleet
from autogrocery.transports.memory import MemoryMetricsChannel, MemoryRobotHub

if TYPE_CHECKING:
    from pathlib import Path

    from autogrocery.transports.zmqio import ZmqOptions


async def start_system(
    config: Config,
    *,
    robot_seed: int | None = None,
    init: bool = False,
    clock: Callable[[], float] = time.time,
) -> System:
    """Open (or create) the store in the config's data dir and start every actor.
    `clock` is what "today" is for best-before dates (tests move it forward)."""
    loop = asyncio.get_running_loop()
    products = await loop.run_in_executor(None, load_catalog, config.catalog_file)
    db_path = await loop.run_in_executor(
        None,
        functools.partial(
            open_store,
            config.data_path,
            products,
            config.store.synchronous,
            init=init,
            page_size=config.store.page_size,
        ),
    )
    aisles = await loop.run_in_executor(None, _aisles, db_path)
    events = EventBus(encode=encode_event)  # records, shown as the API shows them
    fleet = Fleet(on_change=lambda view: events.publish(event_types.ROBOT_UPDATED, view))
    hub, metrics = await loop.run_in_executor(None, open_transports, config, fleet, db_path, aisles)
    ctx = Context(
        db_path,
        config.store.synchronous,
        events,
        Scheduler(),
        config.actors.ask_timeout,
        clock=clock,
        zone=config.stock.zone(),
        chain=config.join_file is not None,
        commit_window=config.store.commit_window,
    )
    robots = config.robots
    settings = Settings(
        reservation_ttl=config.orders.reservation_ttl,
        expiry_sweep_interval=config.orders.expiry_sweep_interval,
        robots_per_aisle=robots.per_aisle,
        pick_time=robots.pick_time,
        failure_probability=robots.failure_probability,
        restart_delay=robots.restart_delay,
        policy=RobotPolicy(
            robots.max_attempts,
            robots.retry_backoff,
            robots.retry_backoff_max,
            robots.shelve_chunk,
        ),
        rule=PricingRule(
            config.pricing.margin,
            config.pricing.scarcity_weight,
            config.pricing.min_factor,
            config.pricing.max_factor,
        ),
        csv_path=config.csv_file,
        robot_seed=robot_seed,
        aisle_deadline=config.zmq.aisle_deadline,
        refused_hold=config.orders.refused_hold,
        lot_sweep_interval=config.stock.expiry_sweep_interval,
        expiry_alert_days=config.stock.expiry_alert_days,
        large_movement_units=config.stock.large_movement_units,
    )
    supervisor = Supervisor(ctx, settings, hub, metrics, aisles)
    await loop.run_in_executor(None, supervisor.start)
    try:
        reader = await Reader.open(db_path)
    except BaseException:
        await loop.run_in_executor(None, supervisor.stop)
        raise
    limits = OrderLimits(config.orders.max_quantity, config.orders.max_lines)
    system = System(supervisor, reader, events, limits, loop, config.stock)
    s = config.store
    system.keeper = HistoryKeeper(
        ctx.connect,
        Retention(s.retention_days, s.history_interval, s.history_batch),
        ctx.zone,
        ctx.clock,
    )
    system.keeper.start()
    return system


def open_transports(
    config: Config, fleet: Fleet, db_path: Path, aisles: list[str] | None = None
) -> tuple[LocalRobotHub, MetricsChannel]:
    """The robot and metrics channels that `transport.*` chose. The zmq ones bind now,
    so a refused or busy address fails the start before any actor runs."""
    options = (
        zmq_options(config)
        if "zmq" in (config.transport.robots, config.transport.metrics)
        else None
    )
    hub: LocalRobotHub = MemoryRobotHub(fleet)
    if config.transport.robots == "zmq" and options is not None:
        from autogrocery.transports.zmq_robots import ZmqRobotHub

        hub = ZmqRobotHub(fleet, config.zmq.robots_endpoint, options, aisles)
    try:
        metrics: MetricsChannel = MemoryMetricsChannel()
        if config.transport.metrics == "zmq" and options is not None:
            from autogrocery.store.outbox import OutboxReader
            from autogrocery.transports.zmq_metrics import ZmqMetricsChannel

            metrics = ZmqMetricsChannel(
                config.zmq.metrics_endpoint, options, lambda: OutboxReader(db_path)
            )
    except BaseException:
        hub.close()
        raise
    hub.add_channel("metrics", metrics.stats)
    return hub, metrics


def zmq_options(config: Config) -> ZmqOptions:
    from autogrocery.transports.curve import server_keys
    from autogrocery.transports.heartbeat import Heartbeat
    from autogrocery.transports.zmqio import ZmqOptions

    z = config.zmq
    return ZmqOptions(
        heartbeat=Heartbeat(z.heartbeat_interval, z.heartbeat_misses),
        ack_timeout=z.ack_timeout,
        curve=server_keys(config.keys_path) if z.curve else None,
        insecure=z.insecure,
    )


def _aisles(db_path: object) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(str(db_path))
    try:
        return [
            row[0] for row in conn.execute("SELECT DISTINCT aisle FROM products ORDER BY aisle")
        ]
    finally:
        conn.close()

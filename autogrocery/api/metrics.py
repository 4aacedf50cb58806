"""Prometheus metrics (prometheus-client, one registry per app)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autogrocery.domain.events import ORDER_UPDATED, RESTOCK_UPDATED

log = logging.getLogger(__name__)
disable_created_metrics()  # the *_created series only add noise to every scrape

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class FleetCollector(Collector):
    """Robot numbers read from the fleet registry at scrape time."""

    def __init__(
        self, robots: Callable[[], list[dict[str, Any]]], bad_frames: Callable[[], dict[str, int]]
    ) -> None:
        self.robots = robots
        self.bad_frames = bad_frames

    def collect(self) -> Iterator[Metric]:
        tasks = CounterMetricFamily(
            "autogrocery_robot_tasks",
            "Robot tasks reported, by aisle and outcome",
            labels=["aisle", "outcome"],
        )
        alive = GaugeMetricFamily(
            "autogrocery_robots_alive", "Robots online, by aisle", labels=["aisle"]
        )
        done: dict[str, list[int]] = {}
        online: dict[str, int] = {}
        for robot in self.robots():
            counts = done.setdefault(robot["aisle"], [0, 0])
            counts[0] += robot["tasks_done"]
            counts[1] += robot["tasks_failed"]
            online[robot["aisle"]] = online.get(robot["aisle"], 0) + (robot["state"] != "offline")
        for aisle, (ok, failed) in sorted(done.items()):
            tasks.add_metric([aisle, "done"], ok)
            tasks.add_metric([aisle, "failed"], failed)
            alive.add_metric([aisle], online[aisle])
        frames = CounterMetricFamily(
            "autogrocery_bad_frames",
            "Undecodable transport frames dropped, by channel",
            labels=["channel"],
        )
        for channel, count in sorted(self.bad_frames().items()):
            frames.add_metric([channel], count)
        yield from (tasks, alive, frames)


class ApiMetrics:
    def __init__(
        self,
        robots: Callable[[], list[dict[str, Any]]],
        bad_frames: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "autogrocery_http_requests",
            "HTTP requests, by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "autogrocery_http_request_seconds",
            "HTTP request duration, by route",
            ["route"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.orders = Gauge(
            "autogrocery_orders",
            "Orders and restocks in the store, by kind and status",
            ["kind", "status"],
            registry=self.registry,
        )
        self.completion = Histogram(
            "autogrocery_order_completion_seconds",
            "Created to completed latency of finished orders, by kind",
            ["kind"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.last_loop_lag = 0.0
        self.loop_lag = Gauge(
            "autogrocery_event_loop_lag_seconds",
            "Largest event-loop lag in the last second",
            registry=self.registry,
        )
        self.registry.register(FleetCollector(robots, bad_frames or dict))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def render(self, counts: list[tuple[str, str, int]]) -> bytes:
        for kind, status, count in counts:
            self.orders.labels(kind, status).set(count)
        return generate_latest(self.registry)

    async def follow(self, events: Any) -> None:
        """Feed the completion histogram from live order events (until cancelled)."""
        async for event in events:
            data = event.data
            if data.get("status") == "COMPLETED" and data.get("latency_ms") is not None:
                kind = "RESTOCK" if event.type == RESTOCK_UPDATED else "CUSTOMER"
                self.completion.labels(kind).observe(data["latency_ms"] / 1000.0)

    async def watch_loop(self, interval: float = 0.1) -> None:
        loop = asyncio.get_running_loop()
        worst, window_start = 0.0, loop.time()
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            worst = max(worst, loop.time() - before - interval)
            if loop.time() - window_start >= 1.0:
                self.loop_lag.set(worst)
                self.last_loop_lag = worst
                worst, window_start = 0.0, loop.time()


EVENT_TYPES = (ORDER_UPDATED, RESTOCK_UPDATED)

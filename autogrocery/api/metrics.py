"""Prometheus metrics (prometheus-client, one registry per app)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autogrocery.api.http_metrics import LATENCY_BUCKETS, HttpMetrics
from autogrocery.domain.messages.analytics import Metric as DomainMetric
from autogrocery.domain.records import RobotSeen

log = logging.getLogger(__name__)


class FleetCollector(Collector):
    """Robot numbers read from the fleet registry, and the transport channels' counters,
    at scrape time."""

    def __init__(
        self,
        robots: Callable[[], list[RobotSeen]],
        channels: Callable[[], dict[str, dict[str, int]]],
    ) -> None:
        self.robots = robots
        self.channels = channels

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
            counts = done.setdefault(robot.aisle, [0, 0])
            counts[0] += robot.tasks_done
            counts[1] += robot.tasks_failed
            online[robot.aisle] = online.get(robot.aisle, 0) + (robot.state != "offline")
        for aisle, (ok, failed) in sorted(done.items()):
            tasks.add_metric([aisle, "done"], ok)
            tasks.add_metric([aisle, "failed"], failed)
            alive.add_metric([aisle], online[aisle])
        frames = CounterMetricFamily(
            "autogrocery_bad_frames",
            "Undecodable transport frames dropped, by channel",
            labels=["channel"],
        )
        refused = CounterMetricFamily(
            "autogrocery_zmq_refused_handshakes",
            "CurveZMQ handshakes the store refused, by channel and cause: key (a key not in "
            "keys/authorized) or handshake (no CurveZMQ, or another store's public key)",
            labels=["channel", "cause"],
        )
        for channel, stats in sorted(self.channels().items()):
            frames.add_metric([channel], stats.get("bad_frames", 0))
            for cause in ("key", "handshake"):
                if f"refused_{cause}" in stats:
                    refused.add_metric([channel, cause], stats[f"refused_{cause}"])
        yield from (tasks, alive, frames, refused)


class BatchCollector(Collector):
    """How the actors batch: batches taken and messages handled, by actor. Their ratio
    over an interval is the mean batch size."""

    def __init__(self, stats: Callable[[], dict[str, tuple[int, int]]]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        batches = CounterMetricFamily(
            "autogrocery_actor_batches", "Batches an actor took, by actor", labels=["actor"]
        )
        messages = CounterMetricFamily(
            "autogrocery_actor_messages",
            "Messages an actor handled (in its batches), by actor",
            labels=["actor"],
        )
        for actor, (taken, handled) in sorted(self.stats().items()):
            batches.add_metric([actor], taken)
            messages.add_metric([actor], handled)
        yield from (batches, messages)


class VitalsCollector(Collector):
    """The store's own health counters, read from the System at scrape time."""

    def __init__(self, vitals: Callable[[], dict[str, float]]) -> None:
        self.vitals = vitals

    def collect(self) -> Iterator[Metric]:
        vitals = self.vitals()
        yield CounterMetricFamily(
            "autogrocery_restarts",
            "Actor restarts by the supervisor (robots and the core)",
            value=vitals.get("core_restarts", 0.0),
        )
        yield GaugeMetricFamily(
            "autogrocery_core_given_up",
            "1 once the core died too often to be restarted: restart the process",
            value=vitals.get("core_given_up", 0.0),
        )
        yield CounterMetricFamily(
            "autogrocery_store_write_failures",
            "Batches the store could not write (full disk, I/O error); retried",
            value=vitals.get("store_write_failures", 0.0),
        )
        yield CounterMetricFamily(
            "autogrocery_events_dropped",
            "Events lost by /api/events subscribers that fell behind (each was told)",
            value=vitals.get("events_dropped", 0.0),
        )
        if "chain_hub_connected" in vitals:  # a store in a chain (docs/chain.md)
            yield from _chain_metrics(vitals)
        if "replication_up" in vitals:  # [replicate] (docs/operating.md)
            yield from _replication_metrics(vitals)


def _replication_metrics(vitals: dict[str, float]) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "autogrocery_replication_up",
        "1 while litestream runs, replicating the store's database",
        value=vitals["replication_up"],
    )
    yield GaugeMetricFamily(
        "autogrocery_replication_lag_seconds",
        "Seconds since the replica last held everything the store had committed",
        value=vitals["replication_lag_seconds"],
    )
    yield CounterMetricFamily(
        "autogrocery_replication_restarts",
        "Times litestream died and was restarted",
        value=vitals["replication_restarts"],
    )


def _chain_metrics(vitals: dict[str, float]) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "autogrocery_chain_hub_connected",
        "1 while the store's leaf node has a live link to the head office's hub",
        value=vitals["chain_hub_connected"],
    )
    yield GaugeMetricFamily(
        "autogrocery_chain_outbox_pending",
        "Events the head office has not confirmed applying yet",
        value=vitals["chain_outbox_pending"],
    )
    yield GaugeMetricFamily(
        "autogrocery_chain_oldest_pending_seconds",
        "How long the oldest of them has waited",
        value=vitals["chain_oldest_pending_seconds"],
    )
    yield CounterMetricFamily(
        "autogrocery_chain_events_published",
        "Outbox rows the relay published to the leaf node (and it acknowledged)",
        value=vitals["chain_events_published"],
    )
    yield CounterMetricFamily(
        "autogrocery_chain_leaf_cpu_seconds",
        "CPU seconds of the store's leaf nats-server (this run of it)",
        value=vitals["chain_leaf_cpu_seconds"],
    )
    yield CounterMetricFamily(
        "autogrocery_chain_leaf_restarts",
        "Times the leaf nats-server died and was restarted",
        value=vitals["chain_leaf_restarts"],
    )


class ApiMetrics(HttpMetrics):
    """The store's: its HTTP server's (`HttpMetrics`), its orders and their completion
    latency, its robots and channels, its actors' batches, its vitals and its loop's lag."""

    def __init__(
        self,
        robots: Callable[[], list[RobotSeen]],
        channels: Callable[[], dict[str, dict[str, int]]] | None = None,
        batch_stats: Callable[[], dict[str, tuple[int, int]]] | None = None,
        vitals: Callable[[], dict[str, float]] | None = None,
        info: dict[str, str] | None = None,
    ) -> None:
        # autogrocery_info{version, robots, metrics}: what the store runs, for the bench.
        super().__init__("The store's version and transports", info or {})
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
        self.webhook_deliveries = Counter(
            "autogrocery_webhook_deliveries",
            "Webhook delivery attempts, by outcome: delivered; retried (it failed and is "
            "tried again later); failed (given up on: the last attempt of a day of them)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("delivered", "retried", "failed"):
            self.webhook_deliveries.labels(outcome)
        self.mails = Counter(
            "autogrocery_mails",
            "Mail to operators, by outcome: sent (the relay took it); retried; failed",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("sent", "retried", "failed"):
            self.mails.labels(outcome)
        self.registry.register(FleetCollector(robots, channels or dict))
        self.registry.register(BatchCollector(batch_stats or dict))
        self.registry.register(VitalsCollector(vitals or dict))

    def render(self, counts: list[tuple[str, str, int]]) -> bytes:
        for kind, status, count in counts:
            self.orders.labels(kind, status).set(count)
        return generate_latest(self.registry)

    def count_delivery(self, outcome: str) -> None:
        self.webhook_deliveries.labels(outcome).inc()

    def count_mail(self, outcome: str) -> None:
        self.mails.labels(outcome).inc()

    def finished(self, metrics: list[DomainMetric]) -> None:
        """Feed the completion histogram from the store's metrics (called on the thread
        that publishes them, batch by batch; the histogram is thread-safe)."""
        for metric in metrics:
            if metric.status == "COMPLETED":
                self.completion.labels(metric.order_kind.value).observe(metric.latency_ms / 1000.0)

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

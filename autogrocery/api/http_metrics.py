"""What every HTTP service of ours exposes to Prometheus (the store's API, the head
office's): its version, its process (CPU, memory), its requests by route and status,
and its connections against their caps."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autogrocery.api.gate import ConnectionStats

disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client; the *_created series only add noise to every scrape

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class HttpMetrics:
    """One registry: `autogrocery_info`, the process collector (process_cpu_seconds_total
    counts all threads: the bench's CPU per order), and the HTTP requests."""

    def __init__(self, about: str, info: dict[str, str]) -> None:
        self.registry = CollectorRegistry()
        Info("autogrocery", about, registry=self.registry).info(info)
        ProcessCollector(registry=self.registry)
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
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def watch_connections(self, stats: Callable[[], ConnectionStats]) -> None:
        """Expose the server's connection counts."""
        self.registry.register(ConnectionCollector(stats))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # labels() costs a few microseconds a call; the children are few: keep them.
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.request_seconds.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)


class ConnectionCollector(Collector):
    """The HTTP server's connections against its cap, read at scrape time."""

    def __init__(self, stats: Callable[[], ConnectionStats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        now = self.stats()
        yield GaugeMetricFamily(
            "autogrocery_http_connections", "HTTP connections open now", value=now.open
        )
        yield GaugeMetricFamily(
            "autogrocery_http_connections_limit",
            "HTTP connections served at once (api.max_connections, or fewer if the "
            "open-file limit does not fit it)",
            value=now.limit,
        )
        yield GaugeMetricFamily(
            "autogrocery_http_connections_per_client_limit",
            "HTTP connections served at once from one client address "
            "(api.max_connections_per_client; 0: no such cap)",
            value=now.per_client_limit,
        )
        yield CounterMetricFamily(
            "autogrocery_http_connections_refused",
            "Connections answered 503 and closed because the limit was reached",
            value=now.refused,
        )
        yield CounterMetricFamily(
            "autogrocery_http_connections_refused_per_client",
            "Connections answered 503 and closed because their client address was at "
            "api.max_connections_per_client (the log names the address)",
            value=now.refused_per_client,
        )
        yield CounterMetricFamily(
            "autogrocery_http_connections_priority",
            "Probes and operators let in past a connection cap",
            value=now.priority,
        )

"""The head office's Prometheus metrics: HTTP requests (as the store counts them), and the
chain read at scrape time from the read model: per store its status, lag, last seen,
events applied, duplicates and refusals, catalog version; per intake shard its stores,
their lag, what waits in its stream and how far behind its applier is; transfers by
status."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import (
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autogrocery.api.http_metrics import HttpMetrics
from autogrocery.central.intake import ShardState
from autogrocery.central.readmodel import TRANSFER_STATUSES, StoreRecord

disable_created_metrics()  # type: ignore[no-untyped-call]


class ChainCollector(Collector):
    """Yields the snapshot `render` was given (read just before, off the event loop)."""

    def __init__(self, store_timeout: float) -> None:
        self.store_timeout = store_timeout
        self.stores: list[StoreRecord] = []
        self.transfers: dict[str, int] = {}
        self.unattributed = 0
        self.shards: list[ShardState] = []

    def collect(self) -> Iterator[Metric]:
        per_store: list[tuple[str, str, type, Callable[[StoreRecord], float | None]]] = [
            (
                "up",
                "1 if heard from within central.store_timeout",
                GaugeMetricFamily,
                lambda s: float(_up(s, self.store_timeout)),
            ),
            (
                "lag_events",
                "Events in the store's leaf stream not applied yet",
                GaugeMetricFamily,
                lambda s: s.lag_events,
            ),
            (
                "last_seen_timestamp_seconds",
                "When the hub last stored an event of the store",
                GaugeMetricFamily,
                lambda s: s.last_seen,
            ),
            (
                "catalog_version",
                "The catalog version the store applied",
                GaugeMetricFamily,
                lambda s: s.catalog_version,
            ),
            (
                "events_applied",
                "Events of the store applied",
                CounterMetricFamily,
                lambda s: s.events_applied,
            ),
            (
                "events_duplicates",
                "Events of the store that came again and were dropped",
                CounterMetricFamily,
                lambda s: s.duplicates,
            ),
            (
                "events_refused",
                "Messages of the store's stream refused (not its own events)",
                CounterMetricFamily,
                lambda s: s.refused,
            ),
        ]
        for name, text, kind, value in per_store:
            family = kind(f"autogrocery_chain_store_{name}", text, labels=["store"])
            for store in self.stores:
                found = value(store)
                if found is not None:
                    family.add_metric([store.store_id], found)
            yield family
        yield CounterMetricFamily(
            "autogrocery_chain_events_refused_unattributed",
            "Refused messages of no enrolled store's stream",
            value=self.unattributed,
        )
        yield from self._shards()
        transfers = GaugeMetricFamily(
            "autogrocery_chain_transfers", "Transfers by status", labels=["status"]
        )
        for status in TRANSFER_STATUSES:
            transfers.add_metric([status], self.transfers.get(status, 0))
        yield transfers

    def _shards(self) -> Iterator[Metric]:
        stores: dict[int, int] = {}
        lag: dict[int, float] = {}
        for store in self.stores:
            stores[store.shard] = stores.get(store.shard, 0) + 1
            lag[store.shard] = lag.get(store.shard, 0) + store.lag_events
        families: list[tuple[type, str, str, Callable[[ShardState], float]]] = [
            (
                GaugeMetricFamily,
                "stores",
                "Stores placed on the shard",
                lambda s: stores.get(s.shard, 0),
            ),
            (
                GaugeMetricFamily,
                "lag_events",
                "Events in its stores' leaf streams not applied yet",
                lambda s: lag.get(s.shard, 0),
            ),
            (
                GaugeMetricFamily,
                "pending_messages",
                "Messages in the shard's intake stream not yet taken by its applier",
                lambda s: s.pending,
            ),
            (
                GaugeMetricFamily,
                "behind_seconds",
                "From the hub storing the last applied event to its apply (0: caught up)",
                lambda s: s.behind,
            ),
            (
                CounterMetricFamily,
                "events_applied",
                "Events the shard's applier applied since the head office started",
                lambda s: s.applied,
            ),
        ]
        for kind, name, text, value in families:
            family = kind(f"autogrocery_chain_shard_{name}", text, labels=["shard", "stream"])
            for shard in self.shards:
                family.add_metric([str(shard.shard), shard.stream], value(shard))
            yield family


def _up(store: StoreRecord, timeout: float) -> bool:
    return store.last_seen is not None and time.time() - store.last_seen <= timeout


class CentralMetrics(HttpMetrics):
    """The head office's: its HTTP server's (`HttpMetrics`) and the chain's stores and
    transfers."""

    def __init__(self, store_timeout: float, version: str) -> None:
        super().__init__("The head office's version", {"version": version, "role": "central"})
        self.chain = ChainCollector(store_timeout)
        self.registry.register(self.chain)

    def render(
        self,
        stores: list[StoreRecord],
        transfers: dict[str, int],
        unattributed: int,
        shards: list[ShardState],
    ) -> bytes:
        self.chain.stores, self.chain.transfers = stores, transfers
        self.chain.unattributed, self.chain.shards = unattributed, shards
        return generate_latest(self.registry)


def status_of(store: StoreRecord, timeout: float, now: float) -> str:
    """up | down | never (GET /api/chain/stores)."""
    if store.last_seen is None:
        return "never"
    return "up" if now - store.last_seen <= timeout else "down"

"""The analytics actor: one row per finished order or restock, a CSV, and a summary.

Metrics are numbered by the store's durable outbox; rows are keyed by that number,
so a replayed metric is recorded once. Where the rows live is a storage strategy
(`analytics_storage`): the store's SQLite file and CSV in the store's process, or a CSV
alone in a remote `autogrocery analytics` process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from autogrocery.actors.analytics_storage import CSV_HEADER, LatencyStorage
from autogrocery.actors.base import Actor, handles
from autogrocery.domain.messages import LastSeq, Metric, Ping, Recover, Summarize
from autogrocery.domain.models import OrderKind

log = logging.getLogger(__name__)

__all__ = ["CSV_HEADER", "AnalyticsActor"]


class AnalyticsActor(Actor):
    name = "analytics"

    def __init__(
        self,
        storage: LatencyStorage,
        on_death: Callable[[Actor], None] | None = None,
        schedule: Callable[[float, Callable[[], None]], None] | None = None,
    ) -> None:
        super().__init__()
        self.storage = storage
        self.on_death = on_death
        self.schedule = schedule  # retries after a failed write
        self._arrived: list[Metric] = []  # this batch's metrics, recorded together

    def on_start(self) -> None:
        self.storage.open()

    def close(self) -> None:
        self.storage.close()

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(Recover)
    def catch_up(self, _: Recover) -> int:
        """Record what the outbox holds beyond our last row (metrics lost in a crash)."""
        recorded = self.storage.record(self.storage.missed())
        if recorded:
            log.info("analytics: caught up %d metric(s) from the outbox", recorded)
        return recorded

    @handles(Metric)
    def arrived(self, metric: Metric) -> None:
        self._arrived.append(metric)
        self.unit.undo(self._arrived.pop)

    def before_commit(self) -> None:
        if self._arrived:
            self.storage.record(self._arrived)

    def after_batch(self) -> None:
        self._arrived = []

    @handles(LastSeq)
    def last_seq(self, _: LastSeq) -> int:
        return self.storage.last_seq()

    @handles(Summarize)
    def summarize(self, _: Summarize) -> dict[str, Any]:
        return {
            kind.value.lower(): self.storage.summary(kind)
            for kind in (OrderKind.CUSTOMER, OrderKind.RESTOCK)
        }

"""The analytics actor: one row per finished order or restock, a CSV, and a summary.

Metrics are numbered by the store's durable outbox; rows are keyed by that number,
so a replayed metric is recorded once. Where the rows live is a storage strategy
(`analytics_storage`): the store's SQLite file and CSV in the store's process, or a CSV
alone in a remote `autogrocery analytics` process.

Rows are written behind: together, at most FLUSH_EVERY seconds (or FLUSH_AT metrics)
after they came, not one small commit per order (four b-trees a row: one commit an
order cost four page images of WAL). Nothing is lost by it: the metrics are durable in
the outbox, and a crash's unwritten ones are caught up from it at the next start. A
summary asked for writes what waits first, so it never lags.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pykka

from autogrocery.actors.analytics_storage import CSV_HEADER, LatencyStorage
from autogrocery.domain.messages.analytics import LastSeq, Metric, Summarize, Summary
from autogrocery.domain.messages.lifecycle import Ping, Recover
from autogrocery.domain.models import OrderKind
from autogrocery.runtime.base import Actor, handles

log = logging.getLogger(__name__)

__all__ = ["CSV_HEADER", "AnalyticsActor"]

FLUSH_EVERY = 1.0  # seconds a metric waits, at most, to be written
FLUSH_AT = 512  # metrics waiting that are written at once


@dataclass(frozen=True, slots=True)
class Flush:
    """Analytics to itself: write what waits."""


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
        self.schedule = schedule  # retries after a failed write; the flush timer
        self._pending: list[Metric] = []  # arrived, not written yet
        self._flush_due = False  # a Flush is on its way
        self._flush_now = False  # this batch holds a Flush

    def on_start(self) -> None:
        self.storage.open()

    def close(self) -> None:
        try:
            self._write()
        except Exception:  # the outbox has them: the next start catches up
            log.warning("analytics: %d metric(s) left to the next start", len(self._pending))
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
        self._pending.append(metric)
        self.unit.undo(self._pending.pop)

    @handles(Flush)
    def flush(self, _: Flush) -> None:
        self._flush_due = False
        self._flush_now = True

    def before_commit(self) -> None:
        """Write what waits when it is time (a full disk fails this batch, and its
        messages, a Flush among them, are retried), else make sure a Flush comes."""
        now = self._flush_now or len(self._pending) >= FLUSH_AT or self.schedule is None
        self._flush_now = False
        if now:
            self._write()
        elif self._pending and not self._flush_due and self.schedule is not None:
            self._flush_due = True
            ref = self.actor_ref
            self.schedule(FLUSH_EVERY, lambda: _tell(ref, Flush()))

    def _write(self) -> None:
        """Record what waits (a failure keeps it waiting: the batch is retried)."""
        if self._pending:
            self.storage.record(self._pending)
            self._pending = []

    @handles(LastSeq)
    def last_seq(self, _: LastSeq) -> int:
        self._write()
        return self.storage.last_seq()

    @handles(Summarize)
    def summarize(self, _: Summarize) -> Summary:
        self._write()
        return {
            "customer": self.storage.summary(OrderKind.CUSTOMER),
            "restock": self.storage.summary(OrderKind.RESTOCK),
        }


def _tell(ref: pykka.ActorRef[AnalyticsActor], message: object) -> None:
    with contextlib.suppress(pykka.ActorDeadError):
        ref.tell(message)

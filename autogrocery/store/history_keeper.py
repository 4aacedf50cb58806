"""The history keeper: a thread beside the actors that keeps the ledger's checkpoint
and the daily totals up to date and, with a retention window, prunes what is older.

One keeper rather than each owner pruning its own tables: what it deletes is history
its owners only ever appended (a movement, an ended order and what was kept for it)
and never read again, as the chain's relay deletes the outbox rows stock and its orders
appended; its deletes touch no row an actor holds or changes. Every step is its own
short transaction on the store's one writer (history_fold.py), and after each the
keeper rests three times as long as the step took, so the actors' batches keep at
least three quarters of the writer's time while it catches up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from autogrocery.domain.models import now
from autogrocery.domain.reports import day_start
from autogrocery.store import history_fold as fold
from autogrocery.store.shared import SharedConnection

log = logging.getLogger(__name__)

VACUUM_PAGES = 256  # per write: 1 MiB of 4 KiB pages (1,024 took up to half a second)
# After each write the keeper rests this many times as long as the write took: it
# holds the store's one writer at most a quarter of the time. With 1 (half the
# time) pruning the reference store moved a short bench's preview p99 from 61 ms to
# 357 ms.
REST_FACTOR = 3.0
# Orders are counted, and a store day's movements totalled, once they ended this long
# ago: each is stamped a moment before its batch commits, and one counted late would be
# counted never.
SETTLED_AFTER = 60.0  # seconds


@dataclass(frozen=True)
class Retention:
    days: int  # 0 keeps everything
    interval: float  # seconds between rounds
    batch: int  # rows per step


@dataclass
class RoundStats:
    folded: int = 0  # movements the checkpoint took in
    days: int = 0  # store days added to the daily totals
    movements: int = 0  # pruned
    orders: int = 0  # pruned
    steps: list[float] = field(default_factory=list)  # seconds each write step took


class HistoryKeeper:
    def __init__(
        self,
        connect: Callable[[], SharedConnection],
        retention: Retention,
        zone: tzinfo,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connect = connect
        self.retention = retention
        self.zone = zone
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="history-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def cutoff(self) -> float | None:
        """The start of the oldest store day kept; None when everything is kept."""
        if not self.retention.days:
            return None
        today = datetime.fromtimestamp(self.clock(), self.zone).date()
        return day_start(today - timedelta(days=self.retention.days), self.zone)

    def run_round(self, rest: bool = True) -> RoundStats:
        """The checkpoint up to the newest movement, every day that is over in the daily
        totals, then (with a window) every old movement and ended order pruned, then the
        freed pages given back."""
        stats = RoundStats()
        db = self.connect()
        batch = self.retention.batch
        stats.folded = self._repeat(lambda: fold.advance_checkpoint(db, batch), stats, rest)
        # A day is over by the clock its movements are stamped with (tests move the
        # store's own clock ahead; a day folded before its last movement would lose it).
        over = now() - SETTLED_AFTER
        stats.days = self._repeat(lambda: fold.fold_day(db, over, self.zone), stats, rest)
        settled = self.clock() - SETTLED_AFTER
        self._repeat(lambda: fold.fold_orders(db, settled, batch), stats, rest)
        before = self.cutoff()
        if before is not None:
            stats.movements = self._repeat(
                lambda: fold.prune_movements(db, before, batch), stats, rest
            )
            stats.orders = self._repeat(lambda: fold.prune_orders(db, before, batch), stats, rest)
            if stats.movements or stats.orders:
                self._repeat(lambda: _vacuumed(db), stats, rest)
        return stats

    def _repeat(self, step: Callable[[], int], stats: RoundStats, rest: bool) -> int:
        """`step` until it does nothing (or the keeper stops); the rows it did."""
        done = 0
        while not self._stop.is_set():
            started = time.monotonic()
            did = step()
            took = time.monotonic() - started
            stats.steps.append(took)
            if not did:
                break
            done += did
            if rest:
                self._stop.wait(took * REST_FACTOR)
        return done

    def _run(self) -> None:
        while not self._stop.wait(self.retention.interval):
            try:
                stats = self.run_round()
            except Exception:  # a failed round (a full disk) is tried again next interval
                log.exception("the history keeper's round failed")
                continue
            if stats.movements or stats.orders:
                log.info(
                    "history: pruned %d movements and %d orders in %d writes (longest %.0f ms)",
                    stats.movements,
                    stats.orders,
                    len(stats.steps),
                    max(stats.steps) * 1000,
                )


def _vacuumed(db: SharedConnection) -> int:
    """Pages given back this step (0 when none are left or the file is not set for it)."""
    free = fold.vacuum_step(db, VACUUM_PAGES)
    return min(free, VACUUM_PAGES)

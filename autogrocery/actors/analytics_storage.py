"""Where the analytics actor keeps its rows: a storage strategy per deployment.

- `StoreLatencies`: in the store's process, the `latencies` table of the store's SQLite
  file plus `latency.csv`; metrics the outbox holds beyond the last row are caught up
  (`missed`), and the CSV is brought up to the table at start.
- `CsvLatencies`: in a remote `autogrocery analytics` process, the CSV alone is the
  record; its last sequence number is where the process resumes its subscription.

Both record a metric at most once (by its outbox sequence number), keep the CSV in
sequence order, cut off a torn last CSV line (a crash mid-write) before appending again,
and summarize from latency histograms (analytics_tally): neither start nor memory grows
with the history.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from autogrocery.actors.analytics_csv import (
    CSV_HEADER,
    CsvLog,
    _fields,
    check_csv_path,
    read_from,
    seq_of_line_ending_at,
)
from autogrocery.actors.analytics_tally import LatencyTally, summarize
from autogrocery.domain.messages.analytics import KindSummary, Metric
from autogrocery.domain.models import OrderKind, now
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert

log = logging.getLogger(__name__)

__all__ = [
    "CSV_HEADER",
    "INSERT_LATENCY",
    "CsvLatencies",
    "LatencyStorage",
    "StoreLatencies",
    "_fields",
    "check_csv_path",
]

INSERT_LATENCY = Insert(
    "latencies",
    (
        "seq",
        "order_kind",
        "order_id",
        "status",
        "items",
        "created_at",
        "finished_at",
        "latency_ms",
    ),
    conflict="OR IGNORE",
)
SYNC_CHUNK = 10_000  # table rows copied to the CSV at a time
SAVE_EVERY = 10.0  # seconds between saves of a remote process's tally


class LatencyStorage(Protocol):
    def open(self) -> None:
        """Runs on the actor's thread before its first message."""

    def record(self, metrics: list[Metric]) -> int:
        """Record each once (by sequence number); how many were new."""

    def missed(self) -> list[Metric]:
        """Metrics published durably but not recorded (a crash in between)."""

    def summary(self, kind: OrderKind) -> KindSummary: ...

    def last_seq(self) -> int: ...

    def close(self) -> None: ...


class StoreLatencies:
    """The store's own analytics: the `latencies` table and the CSV next to it.

    Invariants (what a start relies on to read only what is new):
    - The table holds every outbox metric up to its highest seq (`_last`): a batch
      takes, with the metrics it was given, every outbox row between `_last` and its
      highest seq, so a metric that arrives late (after a higher one was recorded) is
      already in the table, and one above `_last` is new.
    - The CSV holds exactly the table's rows up to its last line's seq, in seq order:
      a batch is committed to the table first, then appended to the CSV in seq order,
      and a failed append is cut back off (CsvLog). A crash between the commit and the
      append (or mid-append: a torn line, cut at start) leaves the CSV short of a
      suffix of the table, and a start appends the rows above its last line
      (`_sync_csv`); a missing CSV is written whole from the table.
    """

    def __init__(self, connect: Callable[[], SharedConnection], csv_path: Path) -> None:
        self.connect = connect
        self.csv = CsvLog(csv_path)
        self._last = 0  # the table's highest seq
        self._csv_upto = 0  # the table's rows up to this seq are in the CSV

    def open(self) -> None:
        self.db = self.connect()
        self.csv.open()
        self._last = int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM latencies").one()[0])
        if self.csv.last_seq > self._last:  # a CSV beyond the table: a restored file
            log.warning(
                "analytics: %s ends at seq %d, the table at %d",
                self.csv.path,
                self.csv.last_seq,
                self._last,
            )
        self._csv_upto = min(self.csv.last_seq, self._last)
        written = self._sync_csv()
        if written:
            log.info("analytics: wrote %d row(s) missing from %s", written, self.csv.path)

    def _sync_csv(self) -> int:
        """Append the table's rows above `_csv_upto` to the CSV, in seq order."""
        written = 0
        while self._csv_upto < self._last:
            rows = self.db.execute(
                "SELECT * FROM latencies WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._csv_upto, SYNC_CHUNK),
            ).fetchall()
            if not rows:
                break
            self.csv.append_many([_fields(_metric(row)) for row in rows])
            self._csv_upto = int(rows[-1]["seq"])
            written += len(rows)
        return written

    def close(self) -> None:
        self.csv.close()
        self.db.close()

    def last_seq(self) -> int:
        return self._last

    def missed(self) -> list[Metric]:
        rows = self.db.execute(
            "SELECT * FROM metrics_outbox WHERE seq > ? ORDER BY seq", (self._last,)
        ).fetchall()
        return [_metric(row) for row in rows]

    def record(self, metrics: list[Metric]) -> int:
        self._sync_csv()  # after a failed append (a full disk), the CSV catches up first
        top = max((m.seq for m in metrics), default=0)
        if top <= self._last:
            return 0  # each is in the table already
        new = {m.seq: m for m in metrics if m.seq > self._last}
        for row in self.db.execute(
            "SELECT * FROM metrics_outbox WHERE seq > ? AND seq <= ? ORDER BY seq",
            (self._last, top),
        ):
            new.setdefault(row["seq"], _metric(row))
        ordered = [new[seq] for seq in sorted(new)]
        self.db.write_batch(
            {
                INSERT_LATENCY: [
                    (
                        m.seq,
                        m.order_kind.value,
                        m.order_id,
                        m.status,
                        m.items,
                        m.created_at,
                        m.finished_at,
                        m.latency_ms,
                    )
                    for m in ordered
                ]
            }
        )
        self._last = ordered[-1].seq
        self.csv.append_many([_fields(m) for m in ordered])
        self._csv_upto = self._last
        return len(ordered)

    def summary(self, kind: OrderKind) -> KindSummary:
        """From the `latency_buckets` tally (a few thousand rows at most) and the
        `latencies_by_latency` index (the exact maximum); per_minute counts the last
        minute's rows on `latencies_by_finish`."""
        by_status: dict[str, int] = {}
        completed: list[tuple[float, int]] = []
        for status, value, n in self.db.execute(
            "SELECT status, bucket, n FROM latency_buckets WHERE order_kind = ? AND n > 0 "
            "ORDER BY status, bucket",
            (kind.value,),
        ):
            by_status[status] = by_status.get(status, 0) + n
            if status == "COMPLETED":
                completed.append((value, n))
        peak = self.db.execute(
            "SELECT MAX(latency_ms) FROM latencies WHERE order_kind = ? AND status = 'COMPLETED'",
            (kind.value,),
        ).one()[0]
        per_minute = self.db.execute(
            "SELECT COUNT(*) FROM latencies WHERE order_kind = ? AND finished_at >= ?",
            (kind.value, now() - 60.0),
        ).one()[0]
        return summarize(
            completed,
            by_status.get("FAILED", 0),
            by_status.get("CANCELLED", 0),
            per_minute,
            None if peak is None else float(peak),
        )


class CsvLatencies:
    """A remote analytics process: the CSV is the record, in seq order (its feed
    delivers metrics in increasing seq from the CSV's last line), so a metric is new
    exactly when its seq is above the last line's. The summary's histogram is saved
    beside the CSV (`<csv>.tally`) with the CSV size it covers: a start reads the CSV
    lines after that size, or the whole CSV (streamed) when the tally is missing or does
    not match the CSV."""

    def __init__(self, csv_path: Path) -> None:
        self.csv = CsvLog(csv_path)
        self.tally_path = csv_path.with_name(csv_path.name + ".tally")
        self.tally = LatencyTally()
        self._saved_at = 0.0

    def open(self) -> None:
        self.csv.open()
        offset = 0
        saved = LatencyTally.load(self.tally_path)
        if saved is not None:
            tally, size, last = saved
            on_disk = self.csv.path.stat().st_size if self.csv.path.exists() else 0
            if size <= on_disk and seq_of_line_ending_at(self.csv.path, size) == last:
                self.tally, offset = tally, size
            else:
                log.warning("analytics: %s does not match the CSV; reading it", self.tally_path)
        stamp, lines = now(), 0
        for row in read_from(self.csv.path, offset):
            try:
                kind, status, finished, latency = row[1], row[3], float(row[6]), float(row[7])
                int(row[0])
            except (IndexError, ValueError):
                log.warning("analytics: skipped a malformed line in %s: %r", self.csv.path, row)
                continue
            self.tally.add(kind, status, latency, finished, stamp)
            lines += 1
        log.info(
            "analytics: %s read from byte %d (%d line(s)), last seq %d",
            self.csv.path,
            offset,
            lines,
            self.csv.last_seq,
        )
        if lines:
            self._save()

    def _save(self) -> None:
        if self.csv.last_seq:
            self.tally.save(self.tally_path, self.csv.size(), self.csv.last_seq)
        self._saved_at = time.monotonic()

    def close(self) -> None:
        try:
            self._save()
        finally:
            self.csv.close()

    def last_seq(self) -> int:
        return self.csv.last_seq

    def missed(self) -> list[Metric]:
        return []  # the subscription replays from last_seq()

    def record(self, metrics: list[Metric]) -> int:
        new: list[Metric] = []
        last = self.csv.last_seq
        for m in sorted(metrics, key=lambda m: m.seq):
            if m.seq > last:
                new.append(m)
                last = m.seq
        self.csv.append_many([_fields(m) for m in new])
        stamp = now()
        for m in new:
            self.tally.add(m.order_kind.value, m.status, m.latency_ms, m.finished_at, stamp)
        if new and time.monotonic() - self._saved_at >= SAVE_EVERY:
            self._save()
        return len(new)

    def summary(self, kind: OrderKind) -> KindSummary:
        return self.tally.summary(kind.value, now())


def _metric(row: sqlite3.Row) -> Metric:
    return Metric(
        row["seq"],
        OrderKind(row["order_kind"]),
        row["order_id"],
        row["status"],
        row["items"],
        row["created_at"],
        row["finished_at"],
    )

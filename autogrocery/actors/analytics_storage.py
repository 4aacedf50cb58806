"""Where the analytics actor keeps its rows: a storage strategy per deployment.

- `StoreLatencies`: in the store's process, the `latencies` table of the store's SQLite
  file plus `latency.csv`; the CSV is reconciled with the table at start, and metrics
  the outbox holds beyond the last row are caught up (`missed`).
- `CsvLatencies`: in a remote `autogrocery analytics` process, the CSV alone is the
  record; its last sequence number is where the process resumes its subscription.

Both record a metric at most once (by its outbox sequence number) and cut off a torn
last CSV line (a crash mid-write) before appending again.
"""

from __future__ import annotations

import csv
import errno
import io
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.models import OrderKind, now
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert

log = logging.getLogger(__name__)

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

CSV_HEADER = [
    "seq",
    "kind",
    "order_id",
    "status",
    "items",
    "created_at",
    "finished_at",
    "latency_ms",
]


class LatencyStorage(Protocol):
    def open(self) -> None:
        """Runs on the actor's thread before its first message."""

    def record(self, metrics: list[Metric]) -> int:
        """Record each once (by sequence number); how many were new."""

    def missed(self) -> list[Metric]:
        """Metrics published durably but not recorded (a crash in between)."""

    def summary(self, kind: OrderKind) -> dict[str, Any]: ...

    def last_seq(self) -> int: ...

    def close(self) -> None: ...


def _fields(m: Metric) -> list[Any]:
    return [
        m.seq,
        m.order_kind.value,
        m.order_id,
        m.status,
        m.items,
        f"{m.created_at:.6f}",
        f"{m.finished_at:.6f}",
        m.latency_ms,
    ]


def _summary(
    completed_latencies: list[float], failed: int, cancelled: int, per_minute: int
) -> dict[str, Any]:
    """The summary of `StoreLatencies.summary`, computed in memory."""
    ordered = sorted(completed_latencies)

    def pct(p: float) -> float | None:
        return float(ordered[round(p * (len(ordered) - 1))]) if ordered else None

    return {
        "completed": len(ordered),
        "failed": failed,
        "cancelled": cancelled,
        "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
        "per_minute": per_minute,
    }


class CsvLog:
    """An append-only CSV of metrics, flushed line by line. A new file (and its
    directory) is made with the first metric, so a process that is refused before it
    records anything leaves nothing behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[list[str]] = []
        self.file: TextIO | None = None

    def open(self) -> None:
        check_csv_path(self.path)
        self.rows = read_csv(self.path)
        if self.path.exists():
            self.file = self.path.open("a", encoding="utf-8", newline="")

    def seqs(self) -> set[int]:
        return {int(row[0]) for row in self.rows if row and row[0].isdigit()}

    def append(self, fields: list[Any]) -> None:
        self.append_many([fields])

    def append_many(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("a", encoding="utf-8", newline="")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if self.file.tell() == 0:
            writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        self.file.write(buffer.getvalue())
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def check_csv_path(path: Path) -> None:
    """Raise the OSError that appending to `path` would raise, without creating
    anything: an existing file must be writable, and a new one's nearest existing
    ancestor a directory we may write into."""
    if path.exists():
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "permission denied", str(path))
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(ancestor))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "permission denied", str(ancestor))


def read_csv(path: Path) -> list[list[str]]:
    """The data rows of the CSV; a torn last line (crash mid-write) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]


class StoreLatencies:
    """The store's own analytics: the `latencies` table and the CSV next to it."""

    def __init__(self, connect: Callable[[], SharedConnection], csv_path: Path) -> None:
        self.connect = connect
        self.csv = CsvLog(csv_path)

    def open(self) -> None:
        self.db = self.connect()
        self.csv.open()
        in_csv = self.csv.seqs()
        missing = [
            row
            for row in self.db.execute("SELECT * FROM latencies ORDER BY seq")
            if row["seq"] not in in_csv
        ]
        for row in missing:
            self.csv.append(_fields(_metric(row)))
        if missing:
            log.info("analytics: wrote %d row(s) missing from %s", len(missing), self.csv.path)

    def close(self) -> None:
        self.csv.close()
        self.db.close()

    def last_seq(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM latencies").fetchone()[0])

    def missed(self) -> list[Metric]:
        rows = self.db.execute(
            "SELECT * FROM metrics_outbox WHERE seq > ? ORDER BY seq", (self.last_seq(),)
        ).fetchall()
        return [_metric(row) for row in rows]

    def record(self, metrics: list[Metric]) -> int:
        if not metrics:
            return 0
        marks = ",".join("?" * len(metrics))
        known = {
            row[0]
            for row in self.db.execute(
                f"SELECT seq FROM latencies WHERE seq IN ({marks})",  # noqa: S608
                [m.seq for m in metrics],
            )
        }
        new: dict[int, Metric] = {}
        for m in metrics:
            if m.seq not in known:
                new.setdefault(m.seq, m)
        if not new:
            return 0
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
                    for m in new.values()
                ]
            }
        )
        self.csv.append_many([_fields(m) for m in new.values()])
        return len(new)

    def summary(self, kind: OrderKind) -> dict[str, Any]:
        counts = dict(
            self.db.execute(
                "SELECT status, COUNT(*) FROM latencies WHERE order_kind = ? GROUP BY status",
                (kind.value,),
            ).fetchall()
        )
        completed = counts.get("COMPLETED", 0)

        def pct(p: float) -> float | None:
            if not completed:
                return None
            row = self.db.execute(
                "SELECT latency_ms FROM latencies WHERE order_kind = ? AND status = 'COMPLETED' "
                "ORDER BY latency_ms LIMIT 1 OFFSET ?",
                (kind.value, round(p * (completed - 1))),
            ).fetchone()
            return float(row[0])

        per_minute = self.db.execute(
            "SELECT COUNT(*) FROM latencies WHERE order_kind = ? AND finished_at >= ?",
            (kind.value, now() - 60.0),
        ).fetchone()[0]
        return {
            "completed": completed,
            "failed": counts.get("FAILED", 0),
            "cancelled": counts.get("CANCELLED", 0),
            "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
            "per_minute": per_minute,
        }


class CsvLatencies:
    """A remote analytics process: the CSV is the record."""

    def __init__(self, csv_path: Path) -> None:
        self.csv = CsvLog(csv_path)
        self.seen: set[int] = set()
        # (kind, status, latency_ms, finished_at) per recorded metric, for the summary
        self.facts: list[tuple[str, str, float, float]] = []

    def open(self) -> None:
        self.csv.open()
        for row in self.csv.rows:
            try:
                seq, kind, status = int(row[0]), row[1], row[3]
                finished, latency = float(row[6]), float(row[7])
            except (IndexError, ValueError):
                log.warning("analytics: skipped a malformed line in %s: %r", self.csv.path, row)
                continue
            self.seen.add(seq)
            self.facts.append((kind, status, latency, finished))
        log.info("analytics: %d metric(s) in %s", len(self.seen), self.csv.path)

    def close(self) -> None:
        self.csv.close()

    def last_seq(self) -> int:
        return max(self.seen, default=0)

    def missed(self) -> list[Metric]:
        return []  # the subscription replays from last_seq()

    def record(self, metrics: list[Metric]) -> int:
        new: list[Metric] = []
        for m in metrics:
            if m.seq not in self.seen:
                self.seen.add(m.seq)
                new.append(m)
        self.csv.append_many([_fields(m) for m in new])
        self.facts.extend((m.order_kind.value, m.status, m.latency_ms, m.finished_at) for m in new)
        return len(new)

    def summary(self, kind: OrderKind) -> dict[str, Any]:
        mine = [f for f in self.facts if f[0] == kind.value]
        recent = now() - 60.0
        return _summary(
            [f[2] for f in mine if f[1] == "COMPLETED"],
            sum(f[1] == "FAILED" for f in mine),
            sum(f[1] == "CANCELLED" for f in mine),
            sum(f[3] >= recent for f in mine),
        )


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

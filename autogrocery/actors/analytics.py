"""The analytics actor: one row per finished order or restock, a CSV, and a summary.

Metrics are numbered by the store's durable outbox; rows are keyed by that number,
so a replayed metric is recorded once. The CSV is reconciled with the table at
start, so a crash between the two leaves no gap and no duplicate.
"""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
from pathlib import Path
from typing import Any

from autogrocery.actors.base import Actor, handles
from autogrocery.actors.context import Context
from autogrocery.domain.messages import Metric, Ping, RecordMetric, Recover, Summarize
from autogrocery.domain.models import OrderKind, now
from autogrocery.store.db import transaction

log = logging.getLogger(__name__)

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


class AnalyticsActor(Actor):
    name = "analytics"

    def __init__(self, ctx: Context, csv_path: Path) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_death = ctx.on_death
        self.csv_path = csv_path

    def on_start(self) -> None:
        self.db: sqlite3.Connection = self.ctx.connect()
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        in_csv = _read_csv_seqs(self.csv_path)
        self.csv = self.csv_path.open("a", encoding="utf-8", newline="")
        if self.csv.tell() == 0:
            self._append(CSV_HEADER)
        missing = [
            row
            for row in self.db.execute("SELECT * FROM latencies ORDER BY seq")
            if row["seq"] not in in_csv
        ]
        for row in missing:
            self._append_row(row)
        if missing:
            log.info("analytics: wrote %d row(s) missing from %s", len(missing), self.csv_path)

    def close(self) -> None:
        self.csv.close()
        self.db.close()

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(Recover)
    def catch_up(self, _: Recover) -> int:
        """Record what the outbox holds beyond our last row (metrics lost in a crash)."""
        last = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM latencies").fetchone()[0]
        rows = self.db.execute(
            "SELECT * FROM metrics_outbox WHERE seq > ? ORDER BY seq", (last,)
        ).fetchall()
        recorded = sum(
            self.record(
                RecordMetric(
                    Metric(
                        row["seq"],
                        OrderKind(row["order_kind"]),
                        row["order_id"],
                        row["status"],
                        row["items"],
                        row["created_at"],
                        row["finished_at"],
                    )
                )
            )
            for row in rows
        )
        if recorded:
            log.info("analytics: caught up %d metric(s) from the outbox", recorded)
        return recorded

    @handles(RecordMetric)
    def record(self, msg: RecordMetric) -> bool:
        m = msg.metric
        with transaction(self.db):
            inserted = (
                self.db.execute(
                    "INSERT OR IGNORE INTO latencies (seq, order_kind, order_id, status, items, "
                    "created_at, finished_at, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        m.seq,
                        m.order_kind.value,
                        m.order_id,
                        m.status,
                        m.items,
                        m.created_at,
                        m.finished_at,
                        m.latency_ms,
                    ),
                ).rowcount
                == 1
            )
        if inserted:
            self._append(
                [
                    m.seq,
                    m.order_kind.value,
                    m.order_id,
                    m.status,
                    m.items,
                    f"{m.created_at:.6f}",
                    f"{m.finished_at:.6f}",
                    m.latency_ms,
                ]
            )
        return inserted

    @handles(Summarize)
    def summarize(self, _: Summarize) -> dict[str, Any]:
        return {kind.value.lower(): self._summary(kind) for kind in OrderKind}

    def _summary(self, kind: OrderKind) -> dict[str, Any]:
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
            "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
            "per_minute": per_minute,
        }

    def _append_row(self, row: sqlite3.Row) -> None:
        self._append(
            [
                row["seq"],
                row["order_kind"],
                row["order_id"],
                row["status"],
                row["items"],
                f"{row['created_at']:.6f}",
                f"{row['finished_at']:.6f}",
                row["latency_ms"],
            ]
        )

    def _append(self, fields: list[Any]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(fields)
        self.csv.write(buffer.getvalue())
        self.csv.flush()


def _read_csv_seqs(path: Path) -> set[int]:
    """Sequence numbers already in the CSV; a torn last line (crash mid-write) is cut off."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    seqs: set[int] = set()
    for line in data.decode("utf-8").splitlines()[1:]:
        head = line.split(",", 1)[0]
        if head.isdigit():
            seqs.add(int(head))
    return seqs

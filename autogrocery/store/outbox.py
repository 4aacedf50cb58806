"""Reading the metrics outbox from a transport's thread (the stock actor's orders write it).

The connection is opened on first use, so it belongs to the thread that reads: a
transport's I/O thread, never the event loop.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.models import OrderKind


class OutboxReader:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._conn: sqlite3.Connection | None = None

    def after(self, seq: int, limit: int) -> list[dict[str, object]]:
        """Up to `limit` metrics after `seq`, oldest first, as the wire carries them."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.db_path, timeout=10.0)
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.execute("PRAGMA query_only=1")
        rows = self._conn.execute(
            "SELECT seq, order_kind, order_id, status, items, created_at, finished_at "
            "FROM metrics_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [
            Metric(row[0], OrderKind(row[1]), row[2], row[3], row[4], row[5], row[6]).to_wire()
            for row in rows
        ]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

"""The new store file that `tools.fill_history` fills, and its bulk writer.

The file is made by the store's own `open_store` (its page size, its migrations, its
WAL), with nothing in it yet. While the history goes in, the file is in bulk mode: no
rollback journal, no syncs, one exclusive lock, a large page cache, and the schema's
secondary indexes set aside (each is created again at the end, from its own
`CREATE INDEX` text in `sqlite_master`, so the schema is exactly the one the
migrations made). Rows go in through the store's statements (`Insert.single()`, the
column lists the actors write with), many thousands per `executemany`. At the end the
file is left as the store keeps it: WAL, and nothing of the bulk mode persists.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from autogrocery.store.db import DB_NAME, open_store
from autogrocery.store.history_schema import FOLD_WHOLE_LEDGER
from autogrocery.store.statements import Insert

FLUSH_ROWS = 50_000
BULK_CACHE_KIB = 512 * 1024


class BulkStore:
    """Buffered inserts into a new store file, statement by statement."""

    def __init__(self, data_dir: Path, page_size: int = 4096) -> None:
        self.path = open_store(data_dir, [], page_size=page_size)  # the schema, empty
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",
            "temp_store=MEMORY",
            f"cache_size=-{BULK_CACHE_KIB}",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.indexes: list[tuple[str, str]] = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY rowid"
        ).fetchall()
        for name, _ in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.buffers: dict[Insert, list[Sequence[Any]]] = {}
        self.counts: dict[str, int] = {}
        self.conn.execute("BEGIN")

    def add(self, statement: Insert, row: Sequence[Any]) -> None:
        buffer = self.buffers.setdefault(statement, [])
        buffer.append(row)
        if len(buffer) >= FLUSH_ROWS:
            self._flush(statement, buffer)

    def add_all(self, statement: Insert, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.add(statement, row)

    def _flush(self, statement: Insert, buffer: list[Sequence[Any]]) -> None:
        self.conn.executemany(statement.single(), buffer)
        self.counts[statement.table] = self.counts.get(statement.table, 0) + len(buffer)
        buffer.clear()

    def flush(self) -> None:
        """Everything buffered into the file (the order the tables were first written
        in: a parent's rows before its children's, as in the actors' batches)."""
        for statement, buffer in self.buffers.items():
            if buffer:
                self._flush(statement, buffer)

    def commit(self) -> None:
        self.flush()
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def finish(self) -> None:
        """The ledger's checkpoint through every movement, the indexes again, then the
        store's own settings: WAL, ready for `run`."""
        self.flush()
        for sql in FOLD_WHOLE_LEDGER:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        for _, sql in self.indexes:
            self.conn.execute(sql)
        self.conn.execute("PRAGMA locking_mode=NORMAL")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


def db_file(data_dir: Path) -> Path:
    return data_dir / DB_NAME

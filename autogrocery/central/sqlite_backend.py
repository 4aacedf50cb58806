"""The read model in one SQLite file (WAL), the default: `<data>/central.db`, which also
holds the head office API's own tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

from autogrocery.central.schema import open_db
from autogrocery.central.sqlconn import Column, Conn, Params, values_insert, values_update
from autogrocery.store.db import transaction

BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _greatest(*values: float | None) -> float | None:
    """PostgreSQL's `greatest()`, which the shared SQL uses: NULLs are ignored."""
    present = [value for value in values if value is not None]
    return max(present) if present else None


class SqliteBackend:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def connect(self) -> Conn:
        conn = open_db(self.path, check_same_thread=False)
        conn.create_function("greatest", -1, _greatest, deterministic=True)
        return cast(Conn, conn)

    def transaction(self, conn: Conn, *, serial: bool = False) -> AbstractContextManager[Conn]:
        return transaction(conn)  # type: ignore[type-var]  # BEGIN IMMEDIATE: all in turn

    def retryable(self, error: BaseException) -> bool:
        return (
            isinstance(error, sqlite3.OperationalError)
            and getattr(error, "sqlite_errorcode", 0) & 0xFF in BUSY_CODES
        )

    def usable(self, conn: Conn) -> bool:
        return True

    def redact(self, text: str) -> str:
        return text

    def insert_many(
        self, conn: Conn, table: str, columns: Sequence[Column], rows: list[Params], tail: str = ""
    ) -> list[Any]:
        return values_insert(conn, table, columns, rows, tail)

    def update_many(
        self,
        conn: Conn,
        table: str,
        key: str,
        columns: Sequence[Column],
        sets: str,
        rows: list[Params],
    ) -> None:
        values_update(conn, table, key, columns, sets, rows)

    @property
    def auth_file(self) -> Path:
        return self.path

"""The read model in one SQLite file (WAL), the default: `<data>/central.db`, which also
holds the head office API's own tables."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

from autogrocery.central.schema import open_db
from autogrocery.central.sqlconn import (
    Column,
    Conn,
    Params,
    marks,
    names,
    values_insert,
    values_update,
)
from autogrocery.store.db import transaction

BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _greatest(*values: float | None) -> float | None:
    """PostgreSQL's `greatest()`, which the shared SQL uses: NULLs are ignored."""
    present = [value for value in values if value is not None]
    return max(present) if present else None


# RETURNING came with SQLite 3.35, UPDATE ... FROM with 3.33: an older library (Ubuntu
# 22.04's is 3.37, some are older) gets the same rows written a row at a time.
MODERN = sqlite3.sqlite_version_info >= (3, 35, 0)


class SqliteBackend:
    name = "sqlite"

    def __init__(self, path: Path, *, modern: bool = MODERN) -> None:
        self.path = path
        self.where = str(path)
        self.modern = modern

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

    def claim(self) -> Conn | None:
        return None  # the file is in the data dir, which `central run` holds

    def redact(self, text: str) -> str:
        return text

    def insert_many(
        self, conn: Conn, table: str, columns: Sequence[Column], rows: list[Params], tail: str = ""
    ) -> list[Any]:
        if self.modern or "RETURNING" not in tail:
            return values_insert(conn, table, columns, rows, tail)
        conflict = tail.split("RETURNING", 1)[0]
        sql = f"INSERT INTO {table} ({names(columns)}) VALUES {marks(columns)} {conflict}"  # noqa: S608 (ours)
        return [row[0] for row in rows if conn.execute(sql, row).rowcount == 1]

    def update_many(
        self,
        conn: Conn,
        table: str,
        key: str,
        columns: Sequence[Column],
        sets: str,
        rows: list[Params],
    ) -> None:
        if self.modern:
            values_update(conn, table, key, columns, sets, rows)
            return
        each = re.sub(r"\bv\.(\w+)", r"(SELECT \1 FROM v)", sets)
        conn.executemany(
            f"WITH v ({names(columns)}) AS (VALUES {marks(columns)}) "  # noqa: S608 (our own names)
            f"UPDATE {table} SET {each} WHERE {key} = (SELECT {key} FROM v)",
            rows,
        )

    @property
    def auth_file(self) -> Path:
        return self.path

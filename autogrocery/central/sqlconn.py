"""What the read model's SQL runs on, whichever database holds it: a DB-API connection
with `?` parameters and rows readable by position and by column name, and the backend
that opens such connections, holds a write transaction, and says which errors mean
"try again" (`sqlite_backend.py`, `pg_backend.py`).

The statements themselves are written once, in the SQL both databases speak (`ON
CONFLICT`, `IS NOT DISTINCT FROM`, `greatest()`, `CAST(sum(...) AS BIGINT)`): one model,
two backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

Params = Sequence[Any]
Column = tuple[str, str]  # a column's name and its PostgreSQL type
# Parameters in one multi-row statement: under SQLite's 32,766 and PostgreSQL's 65,535.
MAX_PARAMS = 30_000


class Row(Protocol):
    def __getitem__(self, key: int | str) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


class Conn(Protocol):
    def execute(self, sql: str, params: Params = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Params], /) -> Any: ...

    def close(self) -> None: ...


class Backend(Protocol):
    """One database: how to reach it and how it behaves."""

    name: str  # "sqlite" | "postgresql", for /metrics and errors
    where: str  # the file, or the server's address without its password

    def connect(self) -> Conn:
        """A new connection, the schema brought up to date (first call migrates)."""
        ...

    def transaction(self, conn: Conn, *, serial: bool = False) -> AbstractContextManager[Conn]:
        """One write transaction: committed at the end, rolled back on error; with
        `serial`, after every other serial one (the API's writes, which number what
        they make) has ended."""
        ...

    def retryable(self, error: BaseException) -> bool:
        """Whether `error` is the database being busy or unreachable (the caller may
        try again; the API answers 503), not a fault of the statement."""
        ...

    def usable(self, conn: Conn) -> bool:
        """False once the connection is broken (a server restart): open a new one."""
        ...

    def claim(self) -> Conn | None:
        """Hold the database for this head office while the connection returned stays
        open; raises ReadModelError if another holds it. None where the data dir's own
        lock already does it (SQLite)."""
        ...

    def redact(self, text: str) -> str:
        """`text` (an error's) without the database's password, if it quoted it."""
        ...

    def insert_many(
        self, conn: Conn, table: str, columns: Sequence[Column], rows: list[Params], tail: str = ""
    ) -> list[Any]:
        """`INSERT INTO table (columns) <rows> tail` in as few statements as the
        database does it best; the first column of what RETURNING gave, if asked."""
        ...

    def update_many(
        self,
        conn: Conn,
        table: str,
        key: str,
        columns: Sequence[Column],
        sets: str,
        rows: list[Params],
    ) -> None:
        """`UPDATE table SET sets` for each row, matched on `key` (the first column):
        `sets` reads the row's values as `v.<column>` and the table's as `table.<column>`."""
        ...

    @property
    def auth_file(self) -> Path:
        """The SQLite file of the head office API's own tables (accounts, tokens,
        idempotency notes): the read model's own file, or one beside the data."""
        ...


def names(columns: Sequence[Column]) -> str:
    return ", ".join(name for name, _ in columns)


def marks(columns: Sequence[Column]) -> str:
    """One row's parameters: `(?, ?, ...)`."""
    return f"({', '.join('?' * len(columns))})"


def _values(columns: Sequence[Column], rows: list[Params]) -> Iterator[tuple[str, list[Any]]]:
    """`rows` as multi-row VALUES lists, each within the parameter limit: their text
    and their parameters."""
    per = max(1, MAX_PARAMS // len(columns))
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        yield ", ".join([marks(columns)] * len(part)), [v for values in part for v in values]


def values_insert(
    conn: Conn, table: str, columns: Sequence[Column], rows: list[Params], tail: str = ""
) -> list[Any]:
    """`insert_many` as multi-row VALUES statements (what SQLite does best)."""
    returned: list[Any] = []
    for values, params in _values(columns, rows):
        sql = f"INSERT INTO {table} ({names(columns)}) VALUES {values} {tail}"  # noqa: S608 (our own names)
        cursor = conn.execute(sql, params)
        if "RETURNING" in tail:
            returned += [found[0] for found in cursor.fetchall()]
    return returned


def values_update(
    conn: Conn,
    table: str,
    key: str,
    columns: Sequence[Column],
    sets: str,
    rows: list[Params],
) -> None:
    """`update_many` as `WITH v(columns) AS (VALUES ...) UPDATE ... FROM v` statements."""
    for values, params in _values(columns, rows):
        conn.execute(
            f"WITH v ({names(columns)}) AS (VALUES {values}) "  # noqa: S608 (our own names)
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.{key} = v.{key}",
            params,
        ).close()

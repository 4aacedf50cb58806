"""Write statements that take many rows at once.

A batch commits many rows per statement. `executemany` would step SQLite once per row,
and the sqlite3 module lets go of the GIL around every step: with other threads
waiting for it (the event loop, other actors), each row would wait its turn for the GIL
again, up to a switch interval (a convoy: 30 rows took 3.8 ms instead of 0.06 ms
beside one busy thread). So rows go in multi-row statements instead: `INSERT ...
VALUES (...), (...)`, `UPDATE ... FROM (VALUES ...)` and `DELETE ... IN (...)`, in
chunks of power-of-two sizes so that the SQL texts stay few and prepared.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

# What a statement binds: the values SQLite stores (no row here binds another kind).
Value = str | int | float | bytes | None
Row = Sequence[Value]
MAX_VARIABLES = 32766  # SQLITE_MAX_VARIABLE_NUMBER since 3.32
MAX_ROWS = 128
UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)


@dataclass(frozen=True)
class Insert:
    """Rows are the values of `columns`, in order."""

    table: str
    columns: tuple[str, ...]
    conflict: str = ""  # "OR IGNORE", "OR REPLACE"

    def single(self) -> str:
        return self.sql(1)

    def sql(self, rows: int) -> str:
        return _insert_sql(self.table, self.columns, self.conflict, rows)

    def prepare(self, rows: Sequence[Row]) -> Sequence[Row]:
        return rows


@dataclass(frozen=True)
class Update:
    """Rows are the new values of `columns`, then the key. `where` adds a condition on
    the row to change (a compare-and-set). The last row given for a key wins."""

    table: str
    key: str
    columns: tuple[str, ...]
    where: str = ""

    def single(self) -> str:
        sets = ", ".join(f"{column} = ?" for column in self.columns)
        condition = f" AND {self.where}" if self.where else ""
        return f"UPDATE {self.table} SET {sets} WHERE {self.key} = ?{condition}"  # noqa: S608

    def sql(self, rows: int) -> str:
        return _update_sql(self.table, self.key, self.columns, self.where, rows)

    def prepare(self, rows: Sequence[Row]) -> Sequence[Row]:
        latest = {row[-1]: row for row in rows}
        return list(latest.values()) if len(latest) != len(rows) else rows


@dataclass(frozen=True)
class Delete:
    """Rows are 1-tuples of the key."""

    table: str
    key: str

    def single(self) -> str:
        return f"DELETE FROM {self.table} WHERE {self.key} = ?"  # noqa: S608

    def sql(self, rows: int) -> str:
        return _delete_sql(self.table, self.key, rows)

    def prepare(self, rows: Sequence[Row]) -> Sequence[Row]:
        return rows


Statement = Insert | Update | Delete


def chunks(statement: Statement, rows: Sequence[Row]) -> Iterator[tuple[str, list[Value]]]:
    """(sql, flat parameters) covering `rows`, in order, in power-of-two chunks."""
    rows = statement.prepare(rows)
    if isinstance(statement, Update) and not UPDATE_FROM:
        for row in rows:  # an old SQLite: one row at a time
            yield statement.single(), list(row)
        return
    width = max(1, len(rows[0]) if rows else 1)
    limit = min(MAX_ROWS, MAX_VARIABLES // width)
    start = 0
    while start < len(rows):
        size = min(limit, 1 << ((len(rows) - start).bit_length() - 1))
        part = rows[start : start + size]
        yield statement.sql(size), [value for row in part for value in row]
        start += size


@cache
def _insert_sql(table: str, columns: tuple[str, ...], conflict: str, rows: int) -> str:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    verb = f"INSERT {conflict} INTO" if conflict else "INSERT INTO"
    return f"{verb} {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * rows)


@cache
def _update_sql(table: str, key: str, columns: tuple[str, ...], where: str, rows: int) -> str:
    one = "(" + ", ".join("?" * (len(columns) + 1)) + ")"
    sets = ", ".join(f"{column} = v.column{n}" for n, column in enumerate(columns, start=1))
    condition = f" AND {table}.{where}" if where else ""
    return (
        f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([one] * rows)}) AS v "  # noqa: S608
        f"WHERE {table}.{key} = v.column{len(columns) + 1}{condition}"
    )


@cache
def _delete_sql(table: str, key: str, rows: int) -> str:
    return f"DELETE FROM {table} WHERE {key} IN ({', '.join('?' * rows)})"  # noqa: S608

"""The read model on a PostgreSQL server (`central.db = "postgresql://…"`), through
psycopg 3: its blocking API fits the model's threads as sqlite3's does (BENCHMARKS.md,
"The head office's driver", has the measurement against asyncpg).

Connections are in autocommit mode: a read is one statement's snapshot, as on SQLite,
and a write opens its own transaction (`transaction`). The shared SQL's `?` marks become
psycopg's `%s`. The schema comes from the same migrations as SQLite's (`schema.py`),
with PostgreSQL's types (`postgres_ddl`), numbered in `schema_version`; the migration
holds an advisory lock, so `central run` and `central enroll` starting together migrate
once. The head office API's own tables (accounts, tokens, idempotency notes) stay in a
SQLite file in the data directory (`auth_file`): they are that process's, not the
chain's.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from autogrocery.central.readmodel import ReadModelError
from autogrocery.central.schema import (
    AUTH_FILE,
    MIGRATIONS,
    SchemaError,
    open_db,
    postgres_ddl,
)
from autogrocery.central.sqlconn import Column, Conn, Cursor, Params, names

MIGRATION_LOCK = 0x6175746F67726F63  # "autogroc": one migration at a time
WRITE_LOCK = MIGRATION_LOCK + 1  # the API's writes (transfers, catalog versions) in turn
OWNER_LOCK = MIGRATION_LOCK + 2  # held by the one head office running on the database


class PgRow(tuple[Any, ...]):
    """A row readable by position and by column name, as sqlite3.Row is."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names[key])
        return super().__getitem__(key)


def _rows(cursor: psycopg.Cursor[Any]) -> Any:
    names = {column.name: n for n, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row.names = names
        return row

    return make


@functools.lru_cache(maxsize=512)
def _marks(sql: str) -> str:
    """The shared SQL's `?` parameters as psycopg's `%s` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConn:
    """A psycopg connection speaking the shared SQL."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = (), /) -> Cursor:
        return self.raw.execute(_marks(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Params], /) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(_marks(sql), [tuple(row) for row in rows])

    def execute_arrays(self, sql: str, columns: list[list[Any]]) -> Cursor:
        """`sql` with one array parameter per column, sent in binary: psycopg writes a
        text array element by element in Python (a third of the apply path's time,
        measured), a binary one without quoting."""
        return self.raw.execute(_marks(sql).replace("%s", "%b"), columns, binary=True)

    def close(self) -> None:
        self.raw.close()


class ClaimConn(PgConn):
    """The session holding the head office's lock: closing it releases the lock first,
    so a head office started right after this one stopped is not refused (the server
    ends a closed session's locks only when its backend process gets to it)."""

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.raw.execute("SELECT pg_advisory_unlock(%s)", (OWNER_LOCK,))
        self.raw.close()


class PgBackend:
    name = "postgresql"

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.where = describe(url)
        self._migrated = False

    def connect(self) -> Conn:
        raw = psycopg.connect(
            self.url,
            autocommit=True,
            row_factory=_rows,
            connect_timeout=10,
            application_name="autogrocery-central",
            # A server gone without a word (a failover, a cut network) is noticed within
            # about a minute, instead of the kernel's retransmissions (~15 minutes).
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
            tcp_user_timeout=60_000,
        )
        conn = PgConn(raw)
        if not self._migrated:
            try:
                migrate(conn)
                # The API's own tables, in their SQLite file (the head office schema's;
                # its read-model tables stay empty there).
                open_db(self.auth_file).close()
            except BaseException:
                conn.close()
                raise
            self._migrated = True
        return conn

    def transaction(self, conn: Conn, *, serial: bool = False) -> AbstractContextManager[Conn]:
        return _transaction(conn, serial)

    def retryable(self, error: BaseException) -> bool:
        """A lost connection (no SQLSTATE: the client saw it), a connection exception
        (08), a rolled-back transaction (40: serialization, deadlock), the server short
        of resources (53), shutting down or starting (57), a lock not available (55P03).
        Not a statement the server refuses, whatever its class (an index row too large
        would be a 503 for ever)."""
        if not isinstance(error, psycopg.OperationalError):
            return False
        state = error.sqlstate
        return state is None or state[:2] in ("08", "40", "53", "57") or state == "55P03"

    def claim(self) -> Conn | None:
        conn = ClaimConn(cast(PgConn, self.connect()).raw)
        held = conn.execute("SELECT pg_try_advisory_lock(?)", (OWNER_LOCK,)).fetchone()[0]
        if not held:
            conn.close()
            raise ReadModelError(
                f"{self.where}: another head office is running on this database (its "
                "session holds the head office's lock); stop it first"
            )
        return conn

    def redact(self, text: str) -> str:
        for secret in _passwords(self.url):
            text = text.replace(secret, "***")
        return text

    def usable(self, conn: Conn) -> bool:
        return isinstance(conn, PgConn) and not conn.raw.broken and not conn.raw.closed

    def insert_many(
        self, conn: Conn, table: str, columns: Sequence[Column], rows: list[Params], tail: str = ""
    ) -> list[Any]:
        """One statement whatever the rows: each column one array parameter, unnested.
        Its text does not change with the number of rows, so the server plans it once
        (psycopg prepares it), and a 768-row upsert costs 5 parameters, not 3,840."""
        if not rows:
            return []
        sql = f"INSERT INTO {table} ({names(columns)}) SELECT * FROM {_unnest(columns)} {tail}"  # noqa: S608 (our own names)
        cursor = _arrays(conn, sql, rows)
        return [found[0] for found in cursor.fetchall()] if "RETURNING" in tail else []

    def update_many(
        self,
        conn: Conn,
        table: str,
        key: str,
        columns: Sequence[Column],
        sets: str,
        rows: list[Params],
    ) -> None:
        """One statement whatever the rows, as `insert_many`: the rows unnested."""
        if not rows:
            return
        sql = (
            f"WITH v AS (SELECT * FROM {_unnest(columns)} AS u ({names(columns)})) "  # noqa: S608 (our own names)
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.{key} = v.{key}"
        )
        _arrays(conn, sql, rows).close()

    @property
    def auth_file(self) -> Path:
        return self.data_dir / AUTH_FILE


def _unnest(columns: Sequence[Column]) -> str:
    """`unnest(...)` of one array parameter per column, typed."""
    return f"unnest({', '.join(f'CAST(? AS {kind}[])' for _, kind in columns)})"


def _arrays(conn: Conn, sql: str, rows: list[Params]) -> Cursor:
    assert isinstance(conn, PgConn)  # noqa: S101 (this backend's own connections)
    return conn.execute_arrays(sql, [list(column) for column in zip(*rows, strict=True)])


@contextmanager
def _transaction(conn: Conn, serial: bool) -> Iterator[Conn]:
    assert isinstance(conn, PgConn)  # noqa: S101 (this backend's own connections)
    with conn.raw.transaction():
        if serial:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        yield conn


def migrate(conn: PgConn) -> int:
    """Run the migrations the database lacks, in one transaction; how many ran."""
    with conn.raw.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
        tables = {
            row[0]
            for row in conn.execute(
                # pg_class, not information_schema: that hides the tables this user
                # may not read, and a database holding them is not empty.
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE n.nspname = current_schema() "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
            )
        }
        if "schema_version" not in tables:
            if tables:
                raise SchemaError(f"{describe_conn(conn)} is not a head office database")
            conn.execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
            conn.execute("INSERT INTO schema_version (version) VALUES (0)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            raise SchemaError(f"{describe_conn(conn)}'s schema_version is empty: not ours")
        version = int(row[0])
        if version > len(MIGRATIONS):
            raise SchemaError(
                f"{describe_conn(conn)} is at schema version {version}, newer than this "
                f"autogrocery ({len(MIGRATIONS)}): upgrade autogrocery"
            )
        pending = MIGRATIONS[version:]
        for script in pending:
            for statement in postgres_ddl(script).split(";"):
                if statement.strip():
                    conn.raw.execute(statement)
        conn.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS),))
    return len(pending)


def _passwords(url: str) -> set[str]:
    """The password a URL holds, as written and percent-decoded (an error may quote
    either); none if it holds none."""
    found = set(re.findall(r"(?:^|[?&\s])password\s*=\s*'?([^&\s']+)", url, re.IGNORECASE))
    _, sep, rest = url.partition("://")
    if sep and "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    found |= {unquote(secret) for secret in found}
    return {secret for secret in found if secret}


def describe(url: str) -> str:
    """The server and database of a URL, without its password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "a PostgreSQL server (unreadable URL)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"postgresql://{host}:{port}/{parts.get('dbname') or ''}"


def describe_conn(conn: PgConn) -> str:
    info = conn.raw.info
    return f"postgresql://{info.host}:{info.port}/{info.dbname}"

"""The read model (`ReadModel`) on either backend: one SQLite file (WAL; the default) or
a PostgreSQL server (`sqlconn.Backend`: `sqlite_backend.py`, `pg_backend.py`).

Connections are per thread: each shard's applier's, the chain worker's, and the API's
two (reads beside a write), so no event loop waits on the database. Every write is one
transaction (an applied batch, a transfer, a catalog version, an enrolment), but for
the leaves' positions. A broken connection is replaced at the next call; the call that
met the break is retried by its caller (the applier) or answered 503 (the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from autogrocery.central import outgoing
from autogrocery.central import queries as q
from autogrocery.central.apply import apply_batch
from autogrocery.central.readmodel import (
    AlreadyEnrolled,
    Arrival,
    Down,
    Enrolment,
    NotEnrolled,
    Outcome,
    ReadModelError,
    SalesRecord,
    SkuStock,
    StoreRecord,
    TransferRecord,
)
from autogrocery.central.schema import AUTH_FILE, DB_NAME, SchemaError
from autogrocery.central.sqlconn import Backend, Conn
from autogrocery.chain.protocol import CatalogProduct, TransferItem
from autogrocery.domain.errors import Unavailable
from autogrocery.domain.records import Made, RequestKey

T = TypeVar("T")
HUB_URLS = "hub_urls"
INTAKE_SHARDS = "intake_shards"


class SqlReadModel:
    def __init__(self, backend: Backend, zone: datetime.tzinfo) -> None:
        self.backend = backend
        self.zone = zone
        self._local = threading.local()
        self._conns: list[Conn] = []
        self._conns_lock = threading.Lock()
        self._api = ThreadPoolExecutor(max_workers=2, thread_name_prefix="central-db")
        try:
            self._conn().execute("SELECT 1")  # migrates now: a broken database fails here
        except SchemaError:
            self.close_now()
            raise
        except Exception as exc:
            self.close_now()
            text = backend.redact(" ".join(str(exc).split())) or type(exc).__name__
            raise ReadModelError(f"{backend.where}: {text}") from exc

    def claim(self) -> None:
        """Hold the database for the running head office (`Backend.claim`): a second
        one on the same PostgreSQL database is refused at its start."""
        held = self.backend.claim()
        if held is not None:
            with self._conns_lock:
                self._conns.append(held)  # closed, and so released, by close_now

    @property
    def auth_file(self) -> Path:
        """The SQLite file of the API's own tables (`Backend.auth_file`)."""
        return self.backend.auth_file

    def _conn(self) -> Conn:
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is not None and not self.backend.usable(conn):
            self._forget(conn)
            conn = None
        if conn is None:
            conn = self.backend.connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _forget(self, conn: Conn) -> None:
        self._local.conn = None
        with self._conns_lock:
            if conn in self._conns:
                self._conns.remove(conn)
        with contextlib.suppress(Exception):  # broken already: closing is only tidying
            conn.close()

    def _write(self, work: Callable[[Conn], T], *, serial: bool = False) -> T:
        conn = self._conn()
        with self.backend.transaction(conn, serial=serial):
            return work(conn)

    def _again(self, work: Callable[[], T]) -> T:
        """`work`, once more on a new connection if the first try found this thread's
        connection broken (the server restarted since its last use): for reads and
        for writes that are idempotent (an applied batch's events are keyed), never
        for the API's writes, whose commit may have happened before the break."""
        try:
            return work()
        except Exception as error:
            conn = getattr(self._local, "conn", None)
            if not self.backend.retryable(error) or conn is None or self.backend.usable(conn):
                raise
            self._forget(conn)
            return work()

    def _read(self, work: Callable[[Conn], T]) -> T:
        return self._again(lambda: work(self._conn()))

    async def _run(self, work: Callable[[Conn], T], *, write: bool = False) -> T:
        def run() -> T:
            try:
                return self._write(work, serial=True) if write else self._read(work)
            except Exception as error:
                if self.backend.retryable(error):
                    raise Unavailable("the read model is busy; try again", 1.0) from None
                raise

        return await asyncio.get_running_loop().run_in_executor(self._api, run)

    # --- intake ----------------------------------------------------------------------------

    def apply(self, batch: Sequence[Arrival]) -> Outcome:
        db = self.backend
        return self._again(
            lambda: self._write(lambda conn: apply_batch(conn, batch, self.zone, db))
        )

    def enrolled(self) -> list[Enrolment]:
        def run(conn: Conn) -> list[Enrolment]:
            rows = conn.execute(
                "SELECT store_id, password_hash, generation, shard FROM stores ORDER BY store_id"
            )
            return [Enrolment(*row) for row in rows]

        return self._read(run)

    def enroll(
        self, store_id: str, password_hash: str, *, rotate: bool, now: float, shard: int = 0
    ) -> int:
        def run(conn: Conn) -> int:
            row = conn.execute(
                "SELECT generation FROM stores WHERE store_id = ?", (store_id,)
            ).fetchone()
            if row is not None and not rotate:
                raise AlreadyEnrolled(store_id)
            if row is None and rotate:
                raise NotEnrolled(store_id)
            if row is None:
                conn.execute(
                    "INSERT INTO stores (store_id, password_hash, enrolled_at, shard) "
                    "VALUES (?, ?, ?, ?)",
                    (store_id, password_hash, now, shard),
                )
                return 1
            conn.execute(
                "UPDATE stores SET password_hash = ?, generation = generation + 1, "
                "rotated_at = ? WHERE store_id = ?",
                (password_hash, now, store_id),
            )
            return int(row[0]) + 1

        return self._write(run, serial=True)  # two enrolments of one store: one wins

    def hub_urls(self) -> list[str]:
        found = self._get(HUB_URLS)
        return list(json.loads(found)) if found else []

    def intake_shards(self) -> int | None:
        """`central.shards` as the head office last started with it (None: never ran):
        `central enroll` places a new store by it (or by its own, if higher)."""
        found = self._get(INTAKE_SHARDS)
        return int(found) if found else None

    def set_intake_shards(self, shards: int) -> None:
        self._set(INTAKE_SHARDS, str(shards))

    def set_hub_urls(self, urls: Sequence[str]) -> None:
        self._set(HUB_URLS, json.dumps(list(urls)))

    def _get(self, key: str) -> str | None:
        sql = "SELECT value FROM settings WHERE key = ?"
        row = self._read(lambda conn: conn.execute(sql, (key,)).fetchone())
        return str(row[0]) if row else None

    def _set(self, key: str, value: str) -> None:
        sql = (
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        self._again(lambda: self._write(lambda conn: conn.execute(sql, (key, value)).close()))

    def due(self, now: float) -> list[Down]:
        return self._read(lambda conn: outgoing.due(conn, now))

    def delivered(self, down: Down) -> None:
        statements = {
            "hwm": "UPDATE stores SET hwm_sent = greatest(hwm_sent, ?) WHERE store_id = ?",
            "catalog": "UPDATE stores SET catalog_sent = greatest(catalog_sent, ?) "
            "WHERE store_id = ?",
            "ship": "UPDATE transfers SET ship_sent = 1 WHERE transfer_id = ? AND from_store = ?",
            "receive": "UPDATE transfers SET receive_sent = 1 WHERE transfer_id = ? "
            "AND to_store = ?",
        }
        sql, params = statements[down.kind], (down.key, down.store_id)
        self._again(lambda: self._write(lambda conn: conn.execute(sql, params).close()))

    def leaf_seen(self, seen: Sequence[tuple[str, str, int]], now: float) -> None:
        sql = (
            "UPDATE stores SET leaf_stream = ?, leaf_last_seq = ?, leaf_checked_at = ? "
            "WHERE store_id = ?"
        )
        # A row per transaction: many rows held while an applier updates them deadlocked.
        rows = [(stream, last_seq, now, store) for store, stream, last_seq in seen]

        def run(conn: Conn) -> None:
            for row in rows:
                conn.execute(sql, row).close()

        self._read(run)

    # --- the API -------------------------------------------------------------------------

    async def stores(self) -> list[StoreRecord]:
        return await self._run(q.stores)

    async def stock(self, sku: str) -> SkuStock | None:
        return await self._run(lambda conn: q.stock(conn, sku))

    async def stock_page(self, after: str | None, limit: int) -> tuple[list[SkuStock], bool]:
        return await self._run(lambda conn: q.stock_page(conn, after, limit))

    async def sales(self, first_day: str, last_day: str) -> list[SalesRecord]:
        return await self._run(lambda conn: q.sales(conn, first_day, last_day))

    async def unknown_skus(self, skus: Sequence[str]) -> list[str]:
        return await self._run(lambda conn: q.unknown_skus(conn, skus))

    async def create_transfer(
        self,
        from_store: str,
        to_store: str,
        items: Sequence[TransferItem],
        by: str,
        now: float,
        key: RequestKey | None = None,
    ) -> TransferRecord:
        work = functools.partial(
            q.create_transfer,
            from_store=from_store,
            to_store=to_store,
            items=items,
            by=by,
            now=now,
            key=key,
        )
        return await self._run(work, write=True)

    async def made(self, user_id: str, key: str) -> Made | None:
        return await self._run(lambda conn: q.made(conn, user_id, key))

    async def transfer(self, transfer_id: str) -> TransferRecord | None:
        return await self._run(lambda conn: q.transfer(conn, transfer_id))

    async def transfers(
        self, status: str | None, before: int | None, limit: int
    ) -> list[TransferRecord]:
        return await self._run(lambda conn: q.transfers(conn, status, before, limit))

    async def transfer_counts(self) -> dict[str, int]:
        return await self._run(q.transfer_counts)

    async def publish_catalog(
        self,
        products: Sequence[CatalogProduct],
        by: str,
        now: float,
        key: RequestKey | None = None,
    ) -> int:
        work = functools.partial(q.publish_catalog, products=products, by=by, now=now, key=key)
        return await self._run(work, write=True)

    async def refused_unattributed(self) -> int:
        return await self._run(q.refused_unattributed)

    async def writable(self) -> None:
        await self._run(
            lambda conn: conn.execute("UPDATE settings SET value = value WHERE 1 = 0").close(),
            write=True,
        )

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.close_now)

    def close_now(self) -> None:
        """Stop the API's threads and close every connection (blocking)."""
        self._api.shutdown(wait=True, cancel_futures=True)
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()


def open_read_model(db: str, data_dir: Path, zone: datetime.tzinfo) -> SqlReadModel:
    """The read model `central.db` names: "" is the SQLite file in `data_dir`, a
    `postgresql://` URL a PostgreSQL database (the `postgres` extra's psycopg)."""
    on_sqlite, on_postgres = data_dir / DB_NAME, data_dir / AUTH_FILE
    if not db and on_postgres.exists() and not on_sqlite.exists():
        raise ReadModelError(
            f"{data_dir}'s read model is in PostgreSQL ({AUTH_FILE} is there): name its "
            "database with --db URL (central.db)"
        )
    if db and on_sqlite.exists():
        raise ReadModelError(
            f"{data_dir} holds a SQLite read model ({DB_NAME}): moving it to PostgreSQL is "
            "not supported; start from another data dir, or leave --db out"
        )
    if not db:
        from autogrocery.central.sqlite_backend import SqliteBackend

        return SqlReadModel(SqliteBackend(data_dir / DB_NAME), zone)
    try:
        from autogrocery.central.pg_backend import PgBackend
    except ImportError:
        raise RuntimeError(
            "central.db is a PostgreSQL URL, and psycopg is not installed: "
            "pip install 'autogrocery[postgres]'"
        ) from None
    return SqlReadModel(PgBackend(db, data_dir), zone)

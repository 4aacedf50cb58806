"""Opening the SQLite file: WAL, busy timeout, migrations, first-start catalog seeding."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import orjson

from autogrocery.domain.models import MovementType, Product, now
from autogrocery.store.schema import MIGRATIONS

log = logging.getLogger(__name__)

DB_NAME = "autogrocery.db"
# Files a store writes into its data dir beside the database (the API's token key,
# api.tokens.KEY_FILE): if they are there and the database is not, it was lost.
STORE_MARKERS = ("jwt.key",)
CATALOG_FILE_DIGEST = "catalog_file_digest"  # stock_meta key: the details last described


def undated_lot(sku: str) -> str:
    """The lot of a SKU's stock without a date (all of it, for undated products)."""
    return f"{sku}/undated"


class StoreError(Exception):
    """The store's files cannot be used as they are; the message names the path and
    the cause, in one line."""


def connect(
    path: Path,
    synchronous: str = "NORMAL",
    *,
    check_same_thread: bool = True,
    cached_statements: int = 128,
) -> sqlite3.Connection:
    """A connection in autocommit mode; writers open `BEGIN IMMEDIATE` via `transaction`.

    WAL with synchronous=NORMAL keeps every committed transaction across a process
    crash (kill -9); only an OS crash or power loss can drop the last commits.
    """
    conn = sqlite3.connect(
        path,
        isolation_level=None,
        timeout=10.0,
        check_same_thread=check_same_thread,
        cached_statements=cached_statements,
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class _Connection(Protocol):
    """What `transaction` uses: a `sqlite3.Connection`, or the store's shared one."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, /) -> object: ...


C = TypeVar("C", bound=_Connection)


@contextmanager
def transaction(conn: C) -> Iterator[C]:
    """`BEGIN IMMEDIATE` … `COMMIT` (or `ROLLBACK` on error). On a shared connection the
    whole transaction holds its lock, so nobody else's statements land inside it."""
    with getattr(conn, "lock", None) or contextlib.nullcontext():
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk does); a failed COMMIT
            # leaves the transaction open. Either way none of it stays.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _create(path: Path, page_size: int) -> None:
    """A new, empty database with pages of `page_size` bytes (fixed once it is in WAL
    mode): each change to a row writes its whole page to the WAL."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA page_size={int(page_size)}")
        # Pages freed by pruning old history go back to the file system a few at a time
        # (store/history_keeper.py); only an empty file can take this without a VACUUM.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")  # makes the file, with that page size
    finally:
        conn.close()


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the newest version; return how many migrations ran."""
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        pending = MIGRATIONS[version:]
        for number, script in enumerate(pending, start=version + 1):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
    return len(pending)


def _statements(script: str) -> list[str]:
    """The statements of `script`, each whole (a trigger's body holds semicolons)."""
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending)
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending)
    return statements


def seed_catalog(conn: sqlite3.Connection, products: Sequence[Product]) -> bool:
    """Load the catalog into an empty store: products, prices and an opening count each."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM products LIMIT 1").fetchone():
            return False
        at = now()
        conn.executemany(
            "INSERT INTO products (sku, name, aisle, unit, on_hand, min_level, price, unit_cost, "
            "priced_at, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    p.sku,
                    p.name,
                    p.aisle,
                    p.unit,
                    p.stock,
                    p.min_level,
                    p.price,
                    p.unit_cost,
                    at,
                    p.details.to_json(),
                )
                for p in products
            ],
        )
        conn.executemany(
            "INSERT INTO lots (lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand, "
            "received_at, ref) VALUES (?, ?, NULL, NULL, ?, ?, ?, 'opening-stock')",
            [(undated_lot(p.sku), p.sku, p.unit_cost, p.stock, at) for p in products],
        )
        conn.executemany(
            "INSERT INTO movements (sku, type, delta, ref, user, at, lot) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    p.sku,
                    MovementType.COUNT.value,
                    p.stock,
                    "opening-stock",
                    "system",
                    at,
                    undated_lot(p.sku),
                )
                for p in products
            ],
        )
    log.info("seeded %d products into a new store", len(products))
    return True


def describe(conn: sqlite3.Connection, products: Sequence[Product]) -> int:
    """The catalog file's details onto the products it describes, except those a head
    office's catalog version described since (an edited file shows at the next start,
    as a new one does). Returns how many changed. A file that describes its products as
    it did at the last start changes nothing, and is not compared again: at 50,000
    products that comparison is a tenth of a restart."""
    texts = [(p.sku, p.details.to_json()) for p in products]
    digest = hashlib.sha256(orjson.dumps(texts)).hexdigest()
    with transaction(conn):
        if _meta(conn, CATALOG_FILE_DIGEST) == digest:
            return 0
        stored = dict(
            conn.execute("SELECT sku, details FROM products WHERE details_version = 0").fetchall()
        )
        changed = [(text, sku) for sku, text in texts if sku in stored and stored[sku] != text]
        conn.executemany("UPDATE products SET details = ? WHERE sku = ?", changed)
        conn.execute(
            "INSERT OR REPLACE INTO stock_meta (key, value) VALUES (?, ?)",
            (CATALOG_FILE_DIGEST, digest),
        )
    return len(changed)


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM stock_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def open_store(
    data_dir: Path,
    products: Sequence[Product],
    synchronous: str = "NORMAL",
    *,
    init: bool = False,
    page_size: int = 4096,
) -> Path:
    """Create the data dir and database if needed, migrate, seed; return the db path.
    A data dir that holds a store's keys but no database lost its database: that is
    refused (StoreError) unless `init` asks for an empty store."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DB_NAME
    markers = [name for name in STORE_MARKERS if (data_dir / name).exists()]
    if markers and not path.exists() and not init:
        raise StoreError(
            f"{path} is missing, but {data_dir} holds a store's {', '.join(markers)}: the "
            "database was deleted or moved. Put it back, or start with --init for an "
            "empty store (the old accounts and orders are then gone)"
        )
    if markers and not path.exists():  # init: an empty store, with new token keys too
        for name in markers:
            (data_dir / name).unlink()
    if not path.exists():  # Litestream's record of a database that is gone misleads it
        shutil.rmtree(data_dir / f".{DB_NAME}-litestream", ignore_errors=True)
        _create(path, page_size)
    conn = connect(path, synchronous)
    try:
        migrate(conn)
        if not seed_catalog(conn, products):
            describe(conn, products)
    finally:
        conn.close()
    return path

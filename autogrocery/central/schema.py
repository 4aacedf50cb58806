"""The head office's SQLite file (`<data>/central.db`): the read model, enrolment and
the API's own tables, migrated in order by `PRAGMA user_version`.

Table owners (the only writer of each):
  enrolment (`central enroll`):  stores' credentials (password_hash, generation)
  the applier:  events, stock, daily, the stores' intake columns (last_seen, hwm,
                events_applied...), transfers' SHIPPED/RECEIVED/REFUSED changes
  the sender:   the *_sent columns (what a store's leaf acknowledged)
  the reconciler: the stores' leaf_* columns
  the API:      transfers (REQUESTED), catalog_versions, catalog_skus, and the auth
                tables (accounts, refresh_tokens, revoked_tokens, idempotency_keys),
                whose shape is the store's (tests/central/test_schema.py keeps it so)
  `central run`: settings (the advertised hub URLs)
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from autogrocery.store.db import connect, transaction

DB_NAME = "central.db"
AUTH_FILE = "central-auth.db"  # the API's own tables when the read model is PostgreSQL

MIGRATIONS: list[str] = [
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE stores (
        store_id TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 1,
        enrolled_at REAL NOT NULL,
        rotated_at REAL,
        last_seen REAL,
        last_event_at REAL,
        hwm INTEGER NOT NULL DEFAULT 0,
        hwm_sent INTEGER NOT NULL DEFAULT 0,
        stream TEXT,
        stream_seq INTEGER NOT NULL DEFAULT 0,
        leaf_stream TEXT,
        leaf_last_seq INTEGER,
        leaf_checked_at REAL,
        catalog_version INTEGER NOT NULL DEFAULT 0,
        catalog_sent INTEGER NOT NULL DEFAULT 0,
        on_hand_units INTEGER,
        events_applied INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        refused INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at REAL NOT NULL,
        applied_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE stock (
        store_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        on_hand INTEGER NOT NULL,
        reserved INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (store_id, sku)
    ) WITHOUT ROWID;
    CREATE INDEX stock_by_sku ON stock (sku, store_id);
    CREATE TABLE daily (
        store_id TEXT NOT NULL,
        day TEXT NOT NULL,
        completed_orders INTEGER NOT NULL DEFAULT 0,
        revenue INTEGER NOT NULL DEFAULT 0,
        waste_value INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (store_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE transfers (
        n INTEGER PRIMARY KEY,
        transfer_id TEXT NOT NULL UNIQUE,
        from_store TEXT NOT NULL,
        to_store TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('REQUESTED', 'SHIPPED', 'RECEIVED', 'REFUSED')),
        reason TEXT,
        requested_by TEXT NOT NULL,
        request_key TEXT,
        requested_at REAL NOT NULL,
        shipped_at REAL,
        received_at REAL,
        ship_sent INTEGER NOT NULL DEFAULT 0,
        receive_sent INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX transfers_by_status ON transfers (status, n);
    CREATE TABLE transfer_items (
        transfer_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        requested INTEGER NOT NULL,
        shipped INTEGER,
        received INTEGER,
        PRIMARY KEY (transfer_id, sku)
    ) WITHOUT ROWID;
    CREATE TABLE transfer_lines (
        transfer_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        unit_cost INTEGER NOT NULL,
        expiry_date TEXT,
        mfd_date TEXT,
        PRIMARY KEY (transfer_id, line)
    ) WITHOUT ROWID;
    CREATE TABLE catalog_versions (
        version INTEGER PRIMARY KEY,
        published_at REAL NOT NULL,
        published_by TEXT NOT NULL,
        products BLOB NOT NULL
    );
    CREATE TABLE catalog_skus (
        sku TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE accounts (
        user_id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash BLOB NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('device', 'truck', 'operator')),
        email TEXT,
        phone TEXT,
        created_at REAL NOT NULL,
        disabled_at REAL
    );
    CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        family_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        used_at REAL,
        revoked_at REAL
    );
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
    CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
    CREATE TABLE revoked_tokens (
        kind TEXT NOT NULL CHECK (kind IN ('jti', 'family')),
        id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE TABLE idempotency_keys (
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        route TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        response BLOB NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (user_id, key)
    ) WITHOUT ROWID;
    """,
    # 2: a transfer or a catalog version made under an Idempotency-Key carries it, its
    # account's id (a key is one account's, whatever its name) and its request's digest,
    # in its own commit: the request's one record (api/idempotency.py).
    """
    ALTER TABLE transfers ADD COLUMN request_user TEXT;
    ALTER TABLE transfers ADD COLUMN request_hash TEXT;
    CREATE UNIQUE INDEX transfers_by_request ON transfers (request_user, request_key)
        WHERE request_key IS NOT NULL;
    ALTER TABLE catalog_versions ADD COLUMN request_user TEXT;
    ALTER TABLE catalog_versions ADD COLUMN request_key TEXT;
    ALTER TABLE catalog_versions ADD COLUMN request_hash TEXT;
    CREATE UNIQUE INDEX catalog_versions_by_request ON catalog_versions
        (request_user, request_key) WHERE request_key IS NOT NULL;
    """,
    # 3: the intake shard a store was placed on at its enrolment (it stays there: its
    # events keep one order); stores enrolled before shards existed are on shard 0.
    """
    ALTER TABLE stores ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
    """,
]


# The migrations above are the one source of both backends' schemas: written in
# SQLite's spelling, PostgreSQL's is made from them by these substitutions (in order).
POSTGRES_TYPES: list[tuple[str, str]] = [
    (r"\bINTEGER PRIMARY KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (r"\bINTEGER\b", "BIGINT"),  # counts, sequences and cents: 64 bits, as SQLite's
    (r"\bREAL\b", "DOUBLE PRECISION"),  # Unix times in seconds
    (r"\bBLOB\b", "BYTEA"),
    (r"\s*WITHOUT ROWID", ""),
    # Text compares by code point, as SQLite's BINARY does and as Python sorts: a
    # database's own collation (en_US, ICU) would order SKUs otherwise, and the stock
    # list, which merges two sorted sources, would skip some between pages.
    (r"\bTEXT\b", 'TEXT COLLATE "C"'),
]


def postgres_ddl(script: str) -> str:
    """A migration of `MIGRATIONS` in PostgreSQL's types."""
    for pattern, replacement in POSTGRES_TYPES:
        script = re.sub(pattern, replacement, script)
    return script


class SchemaError(Exception):
    """The database is newer than this program, or not the head office's."""


def open_db(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to the head office's file (WAL, busy timeout, rows by name), the
    schema brought up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path, check_same_thread=check_same_thread)
    conn.row_factory = sqlite3.Row
    try:
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Run the migrations this file lacks, in one transaction; how many ran."""
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise SchemaError(
                f"{path} is at schema version {version}, newer than this autogrocery "
                f"({len(MIGRATIONS)}): upgrade autogrocery"
            )
        if version == 0 and conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            raise SchemaError(f"{path} is not a head office database (a store's?)")
        pending = MIGRATIONS[version:]
        for number, script in enumerate(pending, start=version + 1):
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
    return len(pending)

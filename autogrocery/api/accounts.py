"""The api layer's own tables (accounts, refresh tokens, idempotency keys).

Reads go through aiosqlite, each one call that runs the statement to its end
(`execute_fetchall`), so no statement stays open between two awaits. Writes are whole
transactions (`BEGIN IMMEDIATE` … `COMMIT`) run by one writer, off the event loop: in a
store, the store's own shared connection (`SharedConnection.run_write`), the same door
as the actors' batches, so the file has one writer; in the head office, a connection of
its own.

Why whole transactions: on a connection shared by concurrent coroutines, a write that
lands while another coroutine's SELECT is still open runs inside that SELECT's read
snapshot; if another writer committed since, SQLite cannot upgrade the snapshot to a
write and fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked"), without
waiting for the busy timeout. A transaction that begins as a write waits its turn.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

import aiosqlite

from autogrocery.api import auth_store as sql
from autogrocery.domain.errors import Unavailable
from autogrocery.domain.models import now
from autogrocery.store.db import connect, transaction

T = TypeVar("T")
BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class Writer(Protocol):
    """Runs `work(conn)` as one write transaction and returns what it returned (raising,
    with nothing of it kept, on any error). Called off the event loop."""

    def __call__(self, work: Callable[[sql.Sql], T], /) -> T: ...


class OwnWriter:
    """A writer with a connection of its own, for a file with no other writer in this
    process (the head office's): `check_file` runs before each commit."""

    def __init__(self, db_path: Path, check_file: Callable[[], None] | None = None) -> None:
        conn = connect(db_path, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        # Checkpoints are the process's checkpointer's, or Litestream's while it
        # replicates the file: never this writer's COMMIT.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        self._conn = conn
        self._check_file = check_file or (lambda: None)

    def __call__(self, work: Callable[[sql.Sql], T], /) -> T:
        with transaction(self._conn):
            done = work(self._conn)
            self._check_file()  # never acknowledge a write into a deleted file
        return done

    def close(self) -> None:
        self._conn.close()


class AuthTables:
    def __init__(self, conn: aiosqlite.Connection, write: Writer, own: OwnWriter | None) -> None:
        self.conn = conn
        self._write = write
        self._own = own  # closed with the tables; a store's shared writer is the store's
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auth-writer")

    @classmethod
    async def open(
        cls,
        db_path: Path,
        write: Writer | None = None,
        check_file: Callable[[], None] | None = None,
    ) -> AuthTables:
        """The tables in `db_path`, written through `write` (the store's one writer), or
        through a writer of their own (checking `check_file` before each commit)."""
        conn = await aiosqlite.connect(db_path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout=10000")
            own: OwnWriter | None = None
            if write is None:
                loop = asyncio.get_running_loop()
                own = await loop.run_in_executor(None, OwnWriter, db_path, check_file)
                write = own
        except BaseException:
            await conn.close()
            raise
        return cls(conn, write, own)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        if self._own is not None:
            await loop.run_in_executor(self._thread, self._own.close)
        await loop.run_in_executor(None, self._thread.shutdown)
        await self.conn.close()

    async def _one(self, sql: str, params: tuple[str, ...]) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def transact(self, work: Callable[[sql.Sql], T]) -> T:
        """Run `work(conn)` as one write transaction, on the tables' own thread."""

        def run() -> T:
            try:
                return self._write(work)
            except sqlite3.OperationalError as error:
                # Still locked after the busy timeout (10 s): contention, not a fault.
                if getattr(error, "sqlite_errorcode", 0) & 0xFF in BUSY_CODES:
                    raise Unavailable("the store is busy; try again", retry_after=1) from None
                raise

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    # --- accounts ----------------------------------------------------------------------

    async def create_account(
        self,
        username: str,
        password_hash: bytes,
        role: str,
        email: str | None = None,
        phone: str | None = None,
    ) -> dict[str, str]:
        return await self.transact(
            lambda conn: sql.insert_account(conn, username, password_hash, role, email, phone)
        )

    async def account(self, username: str) -> aiosqlite.Row | None:
        """The account with exactly this (stored) username."""
        return await self._one("SELECT * FROM accounts WHERE username = ?", (username,))

    async def user_ids(self) -> set[str]:
        rows = await self.conn.execute_fetchall("SELECT user_id FROM accounts")
        return {row[0] for row in rows}

    async def account_by_id(self, user_id: str) -> aiosqlite.Row | None:
        return await self._one(
            "SELECT user_id, username, role, disabled_at FROM accounts WHERE user_id = ?",
            (user_id,),
        )

    async def set_disabled(
        self, username: str, disabled: bool, access_ttl: float
    ) -> tuple[str, sql.Revoked] | None:
        return await self.transact(
            lambda conn: sql.set_disabled(conn, username, disabled, access_ttl)
        )

    async def denials(self) -> tuple[list[tuple[str, str, float]], list[str]]:
        return await self.transact(sql.denials)

    # --- refresh tokens ----------------------------------------------------------------

    async def add_refresh(self, token_hash: str, family_id: str, user_id: str, ttl: float) -> None:
        await self.transact(
            lambda conn: sql.insert_refresh(conn, token_hash, family_id, user_id, ttl)
        )

    async def refresh_token(self, token_hash: str) -> aiosqlite.Row | None:
        return await self._one("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,))

    async def rotate_refresh(
        self, old_hash: str, new_hash: str, ttl: float, access_ttl: float
    ) -> sql.Rotation:
        return await self.transact(
            lambda conn: sql.rotate_refresh(conn, old_hash, new_hash, ttl, access_ttl)
        )

    async def revoke_family(self, family_id: str) -> int:
        """Revoke the refresh tokens of one login (not its access tokens: for that, use
        `Auth.revoke_login`, which also denies them). Returns how many were live."""
        return await self.transact(lambda conn: sql.revoke_refresh_tokens(conn, family_id))

    async def logout(
        self, refresh_hash: str, user_id: str, jti: str, jti_expires: float, access_ttl: float
    ) -> sql.Revoked | None:
        return await self.transact(
            lambda conn: sql.logout(conn, refresh_hash, user_id, jti, jti_expires, access_ttl)
        )

    # --- idempotency keys --------------------------------------------------------------

    async def idempotent(self, user_id: str, key: str) -> aiosqlite.Row | None:
        return await self._one(
            "SELECT * FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, key)
        )

    async def remember(
        self, user_id: str, key: str, route: str, body_hash: str, status: int, response: bytes
    ) -> None:
        row = (user_id, key, route, body_hash, status, response, now())
        await self.transact(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO idempotency_keys (user_id, key, route, body_hash, "
                "status, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        )

    async def forget_idempotency_before(self, cutoff: float) -> int:
        """Drop idempotency records older than `cutoff` (and token denials past expiry)."""
        return await self.transact(lambda conn: sql.forget_expired(conn, cutoff))

    async def writable(self) -> bool:
        """Raises unless a write would succeed. `BEGIN IMMEDIATE` alone passes on a
        read-only file; a write statement (one that changes nothing) does not."""

        def probe(conn: sql.Sql) -> bool:
            conn.execute("UPDATE accounts SET role = role WHERE 0")
            return True

        return await self.transact(probe)

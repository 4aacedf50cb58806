"""The api layer's own tables (accounts, refresh tokens, idempotency keys), written
through aiosqlite so no SQLite call runs on the event loop's thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite

from autogrocery.domain.errors import Conflict
from autogrocery.domain.models import new_id, now


class AuthTables:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, db_path: Path) -> AuthTables:
        conn = await aiosqlite.connect(db_path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    async def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        cursor = await self.conn.execute(sql, params)
        return cursor.rowcount

    # --- accounts ----------------------------------------------------------------------

    async def create_account(
        self,
        username: str,
        password_hash: bytes,
        role: str,
        email: str | None = None,
        phone: str | None = None,
    ) -> dict[str, str]:
        user_id = new_id("usr")
        try:
            await self._write(
                "INSERT INTO accounts (user_id, username, password_hash, role, email, phone, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, username, password_hash, role, email, phone, now()),
            )
        except sqlite3.IntegrityError:
            raise Conflict(f"username {username!r} is taken") from None
        return {"user_id": user_id, "username": username, "role": role}

    async def account(self, username: str) -> aiosqlite.Row | None:
        async with self.conn.execute(
            "SELECT * FROM accounts WHERE username = ?", (username,)
        ) as cursor:
            return await cursor.fetchone()

    async def account_by_id(self, user_id: str) -> aiosqlite.Row | None:
        async with self.conn.execute(
            "SELECT user_id, username, role FROM accounts WHERE user_id = ?", (user_id,)
        ) as cursor:
            return await cursor.fetchone()

    # --- refresh tokens ----------------------------------------------------------------

    async def add_refresh(self, token_hash: str, family_id: str, user_id: str, ttl: float) -> None:
        at = now()
        await self._write(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (token_hash, family_id, user_id, at, at + ttl),
        )

    async def refresh_token(self, token_hash: str) -> aiosqlite.Row | None:
        async with self.conn.execute(
            "SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,)
        ) as cursor:
            return await cursor.fetchone()

    async def use_refresh(self, token_hash: str) -> bool:
        """Mark a live token used; False when it was used or revoked before (a replay)."""
        return (
            await self._write(
                "UPDATE refresh_tokens SET used_at = ? "
                "WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL",
                (now(), token_hash),
            )
            == 1
        )

    async def revoke_family(self, family_id: str) -> int:
        return await self._write(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
            (now(), family_id),
        )

    # --- idempotency keys --------------------------------------------------------------

    async def idempotent(self, user_id: str, key: str) -> aiosqlite.Row | None:
        async with self.conn.execute(
            "SELECT * FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, key)
        ) as cursor:
            return await cursor.fetchone()

    async def remember(
        self, user_id: str, key: str, route: str, body_hash: str, status: int, response: bytes
    ) -> None:
        await self._write(
            "INSERT OR REPLACE INTO idempotency_keys (user_id, key, route, body_hash, status, "
            "response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user_id, key, route, body_hash, status, response, now()),
        )

    async def forget_idempotency_before(self, cutoff: float) -> int:
        return await self._write("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))

    async def writable(self) -> bool:
        """Raises unless a write would succeed. `BEGIN IMMEDIATE` alone passes on a
        read-only file; a write statement (one that changes nothing) does not."""
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            await self.conn.execute("UPDATE accounts SET role = role WHERE 0")
        finally:
            await self.conn.execute("ROLLBACK")
        return True

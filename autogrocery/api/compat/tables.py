"""The compatibility layer's own tables (schema migration 5), on its own aiosqlite
connection: which logins keep their refresh token, and what the original truck UI sends
that a restock does not hold (its supplier; each line's dates travel with the restock)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from autogrocery.domain.models import now


class CompatTables:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, db_path: Path) -> CompatTables:
        # Its own connection: a transaction here never takes in another caller's statement.
        conn = await aiosqlite.connect(db_path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA wal_autocheckpoint=0")  # the store's checkpointer's job
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    # --- logins of the original clients -------------------------------------------------

    async def mark_original(self, family_id: str) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO original_logins (family_id, created_at) VALUES (?, ?)",
            (family_id, now()),
        )

    async def is_original(self, family_id: str) -> bool:
        async with self.conn.execute(
            "SELECT 1 FROM original_logins WHERE family_id = ?", (family_id,)
        ) as cursor:
            return await cursor.fetchone() is not None

    # --- deliveries of the original truck UI --------------------------------------------

    async def record_supplier(self, restock_id: str, supplier_id: str, supplier_name: str) -> None:
        await self.conn.execute(
            "INSERT OR REPLACE INTO restock_suppliers (restock_id, supplier_id, supplier_name) "
            "VALUES (?, ?, ?)",
            (restock_id, supplier_id, supplier_name),
        )

    async def supplier(self, restock_id: str) -> str | None:
        async with self.conn.execute(
            "SELECT supplier_id FROM restock_suppliers WHERE restock_id = ?", (restock_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row["supplier_id"])

"""The compatibility layer's own tables (schema migration 5): which logins keep their
refresh token, and what the original truck UI sends that a restock does not hold (its
supplier; each line's dates travel with the restock). Read on the API's connection and
written through the store's one writer, as the API's own tables are (`api/accounts.py`)."""

from __future__ import annotations

from autogrocery.api.accounts import AuthTables
from autogrocery.domain.models import now


class CompatTables:
    def __init__(self, api_tables: AuthTables) -> None:
        self._api = api_tables

    # --- logins of the original clients -------------------------------------------------

    async def mark_original(self, family_id: str) -> None:
        row = (family_id, now())
        await self._api.transact(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO original_logins (family_id, created_at) VALUES (?, ?)", row
            )
        )

    async def is_original(self, family_id: str) -> bool:
        rows = await self._api.conn.execute_fetchall(
            "SELECT 1 FROM original_logins WHERE family_id = ?", (family_id,)
        )
        return bool(rows)

    # --- deliveries of the original truck UI --------------------------------------------

    async def record_supplier(self, restock_id: str, supplier_id: str, supplier_name: str) -> None:
        row = (restock_id, supplier_id, supplier_name)
        await self._api.transact(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO restock_suppliers (restock_id, supplier_id, "
                "supplier_name) VALUES (?, ?, ?)",
                row,
            )
        )

    async def supplier(self, restock_id: str) -> str | None:
        rows = list(
            await self._api.conn.execute_fetchall(
                "SELECT supplier_id FROM restock_suppliers WHERE restock_id = ?", (restock_id,)
            )
        )
        return None if not rows else str(rows[0]["supplier_id"])

"""SQL for the ordering actor's tables: orders, order_lines, order_history, metrics_outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from autogrocery.domain.models import LineRequest, OrderStatus, now


class OrderTables:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def insert_order(
        self,
        order_id: str,
        kind: str,
        owner: str,
        status: str,
        total: int,
        lines: Iterable[Mapping[str, Any]],
        created_at: float,
        *,
        expires_at: float | None = None,
        confirmed_at: float | None = None,
        request_key: str | None = None,
    ) -> None:
        lines = list(lines)
        items = sum(ln["quantity"] for ln in lines)
        self.db.execute(
            "INSERT INTO orders (order_id, kind, owner, status, total, items, created_at, "
            "confirmed_at, expires_at, request_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order_id,
                kind,
                owner,
                status,
                total,
                items,
                created_at,
                confirmed_at,
                expires_at,
                request_key,
            ),
        )
        self.db.executemany(
            "INSERT INTO order_lines (order_id, sku, name, aisle, quantity, unit_price) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (order_id, ln["sku"], ln["name"], ln["aisle"], ln["quantity"], ln["unit_price"])
                for ln in lines
            ],
        )
        self.db.execute(
            "INSERT INTO order_history (order_id, status, at) VALUES (?, ?, ?)",
            (order_id, status, created_at),
        )

    def move(
        self,
        order_id: str,
        from_status: OrderStatus,
        to_status: OrderStatus,
        *,
        total: int | None = None,
        reason: str | None = None,
    ) -> float | None:
        """Compare-and-set the status; the transition's time, or None when the order was
        not in `from_status` any more."""
        at = now()
        stamp = {
            OrderStatus.PROCESSING: "confirmed_at",
            OrderStatus.COMPLETED: "completed_at",
            OrderStatus.FAILED: "completed_at",
        }.get(to_status)
        sets = ["status = ?"]
        params: list[Any] = [to_status.value]
        if stamp:
            sets.append(f"{stamp} = ?")
            params.append(at)
        if total is not None:
            sets.append("total = ?")
            params.append(total)
        if reason is not None:
            sets.append("reason = ?")
            params.append(reason)
        cursor = self.db.execute(
            f"UPDATE orders SET {', '.join(sets)} WHERE order_id = ? AND status = ?",  # noqa: S608
            (*params, order_id, from_status.value),
        )
        if cursor.rowcount != 1:
            return None
        self.db.execute(
            "INSERT INTO order_history (order_id, status, at) VALUES (?, ?, ?)",
            (order_id, to_status.value, at),
        )
        return at

    def add_metric(self, order: Mapping[str, Any], status: OrderStatus, finished_at: float) -> int:
        cursor = self.db.execute(
            "INSERT INTO metrics_outbox (order_kind, order_id, status, items, created_at, "
            "finished_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                order["kind"],
                order["order_id"],
                status.value,
                order["items"],
                order["created_at"],
                finished_at,
            ),
        )
        if cursor.lastrowid is None:
            raise RuntimeError("metrics_outbox insert returned no sequence number")
        return cursor.lastrowid

    def get(self, order_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return row

    def by_request_key(self, owner: str, request_key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM orders WHERE owner = ? AND request_key = ?", (owner, request_key)
        ).fetchone()
        return row

    def lines(self, order_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM order_lines WHERE order_id = ? ORDER BY sku", (order_id,)
        ).fetchall()

    def aisles(self, order_id: str) -> set[str]:
        rows = self.db.execute(
            "SELECT DISTINCT aisle FROM order_lines WHERE order_id = ?", (order_id,)
        ).fetchall()
        return {row[0] for row in rows}

    def restock_lines(self, order_id: str) -> tuple[LineRequest, ...]:
        return tuple(
            LineRequest(row["sku"], row["quantity"], row["unit_price"])
            for row in self.lines(order_id)
        )

    def due_previews(self, at: float, limit: int = 1000) -> list[str]:
        rows = self.db.execute(
            "SELECT order_id FROM orders WHERE status = 'PREVIEWED' AND expires_at <= ? LIMIT ?",
            (at, limit),
        ).fetchall()
        return [row[0] for row in rows]

    def processing(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT order_id, kind FROM orders WHERE status = 'PROCESSING'"
        ).fetchall()

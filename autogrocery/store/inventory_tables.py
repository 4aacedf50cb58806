"""SQL for the inventory actor's tables: products, movements, stock orders, tasks, alerts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from autogrocery.domain.messages import RobotTask, TaskLine
from autogrocery.domain.models import TaskKind, now


class InventoryTables:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def products(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM products").fetchall()

    def prices(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT sku, price FROM prices").fetchall())

    def alerts(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT sku FROM alerts")}

    def set_levels(self, rows: Iterable[tuple[int, int, str]]) -> None:
        """rows: (on_hand, reserved, sku)."""
        self.db.executemany("UPDATE products SET on_hand = ?, reserved = ? WHERE sku = ?", rows)

    def insert_product(self, stock: Any) -> None:
        self.db.execute(
            "INSERT INTO products (sku, name, aisle, unit, on_hand, reserved, min_level) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                stock.sku,
                stock.name,
                stock.aisle,
                stock.unit,
                stock.on_hand,
                stock.reserved,
                stock.min_level,
            ),
        )

    def update_product(self, stock: Any) -> None:
        self.db.execute(
            "UPDATE products SET name = ?, min_level = ? WHERE sku = ?",
            (stock.name, stock.min_level, stock.sku),
        )

    def add_movements(self, rows: Iterable[tuple[str, str, int, str | None, str | None]]) -> None:
        """rows: (sku, type, delta, ref, user)."""
        at = now()
        stamped = [(*row, at) for row in rows]
        if stamped:
            self.db.executemany(
                "INSERT INTO movements (sku, type, delta, ref, user, at) VALUES (?, ?, ?, ?, ?, ?)",
                stamped,
            )

    def stock_order(self, order_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM stock_orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return row

    def insert_stock_order(
        self,
        order_id: str,
        kind: str,
        state: str,
        lines: Iterable[tuple[str, int, int, int]],
        expires_at: float | None = None,
    ) -> None:
        """lines: (sku, quantity, unit_price, unit_cost)."""
        self.db.execute(
            "INSERT INTO stock_orders (order_id, kind, state, expires_at) VALUES (?, ?, ?, ?)",
            (order_id, kind, state, expires_at),
        )
        self.db.executemany(
            "INSERT INTO stock_lines (order_id, sku, quantity, unit_price, unit_cost) "
            "VALUES (?, ?, ?, ?, ?)",
            [(order_id, *line) for line in lines],
        )

    def stock_lines(self, order_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT sku, quantity, unit_price, unit_cost FROM stock_lines WHERE order_id = ?",
            (order_id,),
        ).fetchall()

    def held_orders(self) -> dict[str, tuple[str, str, list[dict[str, Any]]]]:
        """Stock orders RESERVED or DISPATCHED: (kind, state, lines) by order id."""
        held: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}
        for row in self.db.execute(
            "SELECT s.order_id, s.kind, s.state, l.sku, l.quantity, l.unit_price, l.unit_cost "
            "FROM stock_orders s JOIN stock_lines l USING (order_id) "
            "WHERE s.state IN ('RESERVED', 'DISPATCHED')"
        ):
            entry = held.setdefault(row["order_id"], (row["kind"], row["state"], []))
            entry[2].append({k: row[k] for k in ("sku", "quantity", "unit_price", "unit_cost")})
        return held

    def move_stock_order(self, order_id: str, from_state: str, to_state: str) -> bool:
        cursor = self.db.execute(
            "UPDATE stock_orders SET state = ? WHERE order_id = ? AND state = ?",
            (to_state, order_id, from_state),
        )
        return cursor.rowcount == 1

    def reserved_orders(self) -> list[sqlite3.Row]:
        """Reservations and the status their order has (NULL when the order was never stored)."""
        return self.db.execute(
            "SELECT s.order_id, o.status FROM stock_orders s "
            "LEFT JOIN orders o ON o.order_id = s.order_id WHERE s.state = 'RESERVED'"
        ).fetchall()

    def insert_tasks(self, tasks: Iterable[RobotTask]) -> None:
        at = now()
        self.db.executemany(
            "INSERT OR IGNORE INTO tasks (task_id, order_id, op, aisle, lines, status, "
            "attempts, updated_at) VALUES (?, ?, ?, ?, ?, 'PENDING', 0, ?)",
            [
                (
                    t.task_id,
                    t.order_id,
                    t.op.value,
                    t.aisle,
                    orjson.dumps([[ln.sku, ln.quantity] for ln in t.lines]),
                    at,
                )
                for t in tasks
            ],
        )

    def tasks(self, order_id: str) -> list[tuple[RobotTask, str]]:
        rows = self.db.execute(
            "SELECT task_id, order_id, op, aisle, lines, status, attempts FROM tasks "
            "WHERE order_id = ? ORDER BY task_id",
            (order_id,),
        ).fetchall()
        return [
            (
                RobotTask(
                    task_id=row["task_id"],
                    order_id=row["order_id"],
                    op=TaskKind(row["op"]),
                    aisle=row["aisle"],
                    lines=tuple(TaskLine(sku, qty) for sku, qty in orjson.loads(row["lines"])),
                    attempt=row["attempts"] + 1,
                ),
                row["status"],
            )
            for row in rows
        ]

    def finish_task(self, task_id: str, status: str, robot_id: str | None) -> bool:
        cursor = self.db.execute(
            "UPDATE tasks SET status = ?, robot_id = ?, updated_at = ? "
            "WHERE task_id = ? AND status = 'PENDING'",
            (status, robot_id, now(), task_id),
        )
        return cursor.rowcount == 1

    def count_attempt(self, task_id: str, attempts: int) -> None:
        self.db.execute(
            "UPDATE tasks SET attempts = ?, updated_at = ? WHERE task_id = ?",
            (attempts, now(), task_id),
        )

    def raise_alert(self, sku: str, available: int, min_level: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO alerts (sku, available, min_level, raised_at) "
            "VALUES (?, ?, ?, ?)",
            (sku, available, min_level, now()),
        )

    def clear_alert(self, sku: str) -> None:
        self.db.execute("DELETE FROM alerts WHERE sku = ?", (sku,))

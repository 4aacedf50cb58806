"""SQL for the ordering actor's tables: orders, order_lines, metrics_outbox.

The actor holds its open orders in memory and writes through; reads here are for
start-up and for orders that are already final.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.models import OrderKind, OrderLine, OrderStatus
from autogrocery.domain.records import OrderRecord
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert, Update

INSERT_ORDER = Insert(
    "orders",
    (
        "order_id",
        "kind",
        "owner",
        "status",
        "total",
        "items",
        "created_at",
        "confirmed_at",
        "completed_at",
        "ended_at",
        "expires_at",
        "reason",
        "request_key",
        "request_hash",
    ),
)
INSERT_LINE = Insert(
    "order_lines",
    ("order_id", "sku", "name", "aisle", "quantity", "unit_price", "expiry_date", "mfd_date"),
)
UPDATE_ORDER = Update(
    "orders",
    "order_id",
    ("status", "total", "confirmed_at", "completed_at", "ended_at", "reason"),
)
INSERT_METRIC = Insert(
    "metrics_outbox",
    ("seq", "order_kind", "order_id", "status", "items", "created_at", "finished_at"),
)


# The columns of INSERT_ORDER, INSERT_LINE, UPDATE_ORDER and INSERT_METRIC, in order.
OrderRow = tuple[
    str,
    str,
    str,
    str,
    int,
    int,
    float,
    float | None,
    float | None,
    float | None,
    float | None,
    str | None,
    str | None,
    str | None,
]
LineRow = tuple[str, str, str, str, int, int, str, str | None]
UpdateRow = tuple[str, int, float | None, float | None, float | None, str | None, str]
MetricRow = tuple[int, str, str, str, int, float, float]


def order_row(order: OrderRecord) -> OrderRow:
    return (
        order.order_id,
        order.kind.value,
        order.owner,
        order.status.value,
        order.total,
        order.items,
        order.created_at,
        order.confirmed_at,
        order.completed_at,
        order.ended_at,
        order.expires_at,
        order.reason,
        order.request_key,
        order.request_hash,
    )


def line_rows(order: OrderRecord) -> Iterable[LineRow]:
    for line in order.lines:
        yield (
            order.order_id,
            line.sku,
            line.name,
            line.aisle,
            line.quantity,
            line.unit_price,
            line.expiry_date.isoformat() if line.expiry_date else "",  # "": undated
            line.mfd_date.isoformat() if line.mfd_date else None,
        )


def update_row(order: OrderRecord) -> UpdateRow:
    return (
        order.status.value,
        order.total,
        order.confirmed_at,
        order.completed_at,
        order.ended_at,
        order.reason,
        order.order_id,
    )


def metric_row(metric: Metric) -> MetricRow:
    return (
        metric.seq,
        metric.order_kind.value,
        metric.order_id,
        metric.status,
        metric.items,
        metric.created_at,
        metric.finished_at,
    )


def order_record(row: sqlite3.Row, lines: Iterable[sqlite3.Row]) -> OrderRecord:
    """A stored order and its lines as a record (rows from sqlite3 or aiosqlite)."""
    return OrderRecord(
        order_id=row["order_id"],
        kind=OrderKind(row["kind"]),
        owner=row["owner"],
        status=OrderStatus(row["status"]),
        total=row["total"],
        lines=tuple(
            OrderLine(
                ln["sku"],
                ln["name"],
                ln["aisle"],
                ln["quantity"],
                ln["unit_price"],
                _day(ln["expiry_date"]),
                _day(ln["mfd_date"]),
            )
            for ln in lines
        ),
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        completed_at=row["completed_at"],
        ended_at=row["ended_at"],
        expires_at=row["expires_at"],
        reason=row["reason"],
        request_key=row["request_key"],
        request_hash=row["request_hash"],
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class OrderTables:
    def __init__(self, db: SharedConnection) -> None:
        self.db = db

    def open_orders(self) -> list[OrderRecord]:
        """Every order and restock not yet final, with its lines."""
        rows = self.db.execute(
            "SELECT * FROM orders WHERE status IN ('PREVIEWED', 'PROCESSING') ORDER BY rowid"
        ).fetchall()
        lines: dict[str, list[sqlite3.Row]] = {row["order_id"]: [] for row in rows}
        for line in self.db.execute(
            "SELECT l.* FROM order_lines l JOIN orders o USING (order_id) "
            "WHERE o.status IN ('PREVIEWED', 'PROCESSING') "
            "ORDER BY l.order_id, l.sku, l.expiry_date"
        ):
            lines[line["order_id"]].append(line)
        return [order_record(row, lines[row["order_id"]]) for row in rows]

    def get(self, order_id: str) -> OrderRecord | None:
        row = self.db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return None if row is None else order_record(row, self._lines(order_id))

    def by_request_key(self, owner: str, request_key: str) -> OrderRecord | None:
        row = self.db.execute(
            "SELECT * FROM orders WHERE owner = ? AND request_key = ?", (owner, request_key)
        ).fetchone()
        return None if row is None else order_record(row, self._lines(row["order_id"]))

    def _lines(self, order_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM order_lines WHERE order_id = ? ORDER BY sku, expiry_date", (order_id,)
        ).fetchall()

    def last_metric_seq(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM metrics_outbox").one()
        return int(row[0])

"""Test helpers: waiting for orders to settle and checking the stock invariants."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from autogrocery.api import views
from autogrocery.domain.models import FINAL_STATUSES, LineRequest, OrderKind
from autogrocery.domain.money import parse_money
from autogrocery.domain.records import OrderRecord
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.store.reads import ORDER_COUNTS


async def wait_final(
    system: System, order_ids: Iterable[str], *, restocks: Iterable[str] = (), within: float = 30.0
) -> dict[str, OrderRecord]:
    """Poll until every order and restock is in a final status; fail after `within` s."""
    pending = {oid: system.get_order for oid in order_ids}
    pending.update({rid: system.get_restock for rid in restocks})
    final: dict[str, OrderRecord] = {}
    deadline = time.monotonic() + within
    while pending:
        for oid, get in list(pending.items()):
            order = await get(oid)
            if order.status in FINAL_STATUSES:
                final[oid] = order
                del pending[oid]
        if pending:
            if time.monotonic() > deadline:
                states = {oid: (await get(oid)).status for oid, get in pending.items()}
                raise AssertionError(f"{len(pending)} not final after {within}s: {states}")
            await asyncio.sleep(0.02)
    return final


def as_json(view: object) -> Any:
    """What the API sends for `view` (a Struct of api/views.py), as a client decodes it."""
    return msgspec.to_builtins(view)


async def inventory_json(system: System) -> list[dict[str, Any]]:
    """Every product's levels as GET /api/ops/inventory shows them."""
    return [as_json(views.inventory_item(level)) for level in await system.levels()]


async def product_json(system: System, sku: str) -> dict[str, Any]:
    """One product's levels as the API shows them."""
    return as_json(views.inventory_item(await system.product(sku)))  # type: ignore[no-any-return]


def line(
    sku: str,
    quantity: int,
    unit_cost: str | None = None,
    expiry: str | None = None,
    made: str | None = None,
) -> LineRequest:
    """A line of an order (sku, quantity) or of a delivery (and its cost, like "1.25",
    and its dates, like "2026-12-01"), as the API hands it to the store."""
    return LineRequest(
        sku,
        quantity,
        parse_money(unit_cost) if unit_cost is not None else None,
        date.fromisoformat(expiry) if expiry is not None else None,
        date.fromisoformat(made) if made is not None else None,
    )


def iso(day: date | None) -> str | None:
    """A line's date as the API writes it."""
    return day.isoformat() if day is not None else None


def opening_stock(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        return dict(
            conn.execute("SELECT sku, delta FROM movements WHERE ref = 'opening-stock'").fetchall()
        )


def check_invariants(data_dir: Path, *, settled: bool = True) -> dict[str, int]:
    """Assert the store's books balance; return on_hand per SKU.

    Always: on_hand = Σ movements; what open orders hold (their lines, until stock
    settled them) never exceeds on_hand; no order took stock twice; every completed
    order's total is its lines at their locked prices. Once settled (nothing in
    flight, as after recovery): on_hand = opening - picked + restocked + adjustments,
    every finished order or restock settled once, one analytics row per finished one.
    The order counts and the latency tally (latency_buckets) match the rows they count.
    """
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    try:
        q = conn.execute
        q("BEGIN")  # one snapshot for every query below, even while the store runs
        on_hand = dict(q("SELECT sku, on_hand FROM products").fetchall())
        ledger = dict(q("SELECT sku, SUM(delta) FROM movements GROUP BY sku").fetchall())
        held = dict(
            q(
                "SELECT l.sku, SUM(l.quantity) FROM order_lines l JOIN orders o USING (order_id) "
                "WHERE o.kind = 'CUSTOMER' AND o.status IN ('PREVIEWED', 'PROCESSING') "
                "AND o.order_id NOT IN (SELECT order_id FROM stock_settlements) GROUP BY l.sku"
            ).fetchall()
        )
        picked = dict(
            q(
                "SELECT l.sku, SUM(l.quantity) FROM order_lines l JOIN orders o USING (order_id) "
                "WHERE o.kind = 'CUSTOMER' AND o.status = 'COMPLETED' GROUP BY l.sku"
            ).fetchall()
        )
        shelved = dict(
            q(
                "SELECT l.sku, SUM(l.quantity) FROM order_lines l JOIN orders o USING (order_id) "
                "WHERE o.kind = 'RESTOCK' AND o.status = 'COMPLETED' GROUP BY l.sku"
            ).fetchall()
        )
        adjusted = dict(
            q(
                "SELECT sku, SUM(delta) FROM movements WHERE ref IS NOT 'opening-stock' AND "
                "(type IN ('WASTE', 'ADJUST', 'COUNT') OR ref NOT IN (SELECT order_id FROM "
                "orders)) GROUP BY sku"  # by hand: goods taken out or received (IN, OUT)
            ).fetchall()
        )
        opening = dict(q("SELECT sku, delta FROM movements WHERE ref = 'opening-stock'").fetchall())
        for sku, stock in on_hand.items():
            assert stock == ledger.get(sku, 0), f"{sku}: on_hand {stock} != Σ movements"
            assert 0 <= held.get(sku, 0) <= stock, f"{sku}: {held.get(sku)} held of {stock}"
            if settled:
                expected = (
                    opening.get(sku, 0)
                    - picked.get(sku, 0)
                    + shelved.get(sku, 0)
                    + adjusted.get(sku, 0)
                )
                assert stock == expected, f"{sku}: on_hand {stock} != {expected}"
        lots = q(
            "SELECT l.lot_id, l.sku, l.on_hand, COALESCE(m.total, 0) FROM lots l LEFT JOIN "
            "(SELECT lot, SUM(delta) AS total FROM movements GROUP BY lot) m "
            "ON m.lot = l.lot_id"
        ).fetchall()
        per_sku: dict[str, int] = {}
        for lot_id, sku, lot_on_hand, lot_ledger in lots:
            assert lot_on_hand == lot_ledger, f"lot {lot_id}: {lot_on_hand} != Σ movements"
            per_sku[sku] = per_sku.get(sku, 0) + lot_on_hand
        for sku, stock in on_hand.items():
            assert per_sku.get(sku, 0) == stock, f"{sku}: on_hand {stock} != Σ its lots"
        unlotted = q("SELECT COUNT(*) FROM movements WHERE lot IS NULL").fetchone()[0]
        assert unlotted == 0, "movements that name no lot"
        out_per_order = q(
            "SELECT ref, COUNT(*), COUNT(DISTINCT sku || '/' || lot) FROM movements "
            "WHERE type = 'OUT' GROUP BY ref"
        ).fetchall()
        for ref, count, distinct in out_per_order:
            assert count == distinct, f"order {ref} took stock twice"
        bad_totals = q(
            "SELECT o.order_id, o.total, SUM(l.quantity * l.unit_price) FROM orders o "
            "JOIN order_lines l USING (order_id) WHERE o.status = 'COMPLETED' "
            "GROUP BY o.order_id HAVING o.total != SUM(l.quantity * l.unit_price)"
        ).fetchall()
        assert not bad_totals, f"bill differs from the preview: {bad_totals[:3]}"
        if settled:
            unsettled = q(
                "SELECT order_id FROM orders WHERE status = 'COMPLETED' "
                "AND order_id NOT IN (SELECT order_id FROM stock_settlements)"
            ).fetchall()
            assert not unsettled, f"completed without settling stock: {unsettled[:3]}"
        finished = {  # what analytics hears of: the end of an order robots worked on
            row[0]
            for row in q(
                "SELECT order_id FROM orders WHERE status IN ('COMPLETED', 'FAILED') "
                "OR (status = 'CANCELLED' AND confirmed_at IS NOT NULL)"
            )
        }
        counted = q(ORDER_COUNTS)  # nothing pruned here: the counts are the orders'
        grouped = q("SELECT kind, status, COUNT(*) FROM orders GROUP BY 1, 2 ORDER BY 1, 2")
        assert counted.fetchall() == grouped.fetchall(), "order counts != the orders"
        tallied = q(
            "SELECT order_kind, status, SUM(n) FROM latency_buckets GROUP BY 1, 2 "
            "HAVING SUM(n) != 0 ORDER BY 1, 2"
        )
        rows = q("SELECT order_kind, status, COUNT(*) FROM latencies GROUP BY 1, 2 ORDER BY 1, 2")
        assert tallied.fetchall() == rows.fetchall(), "latency_buckets != the latencies"
        told = [row[0] for row in q("SELECT order_id FROM metrics_outbox")]
        recorded = [row[0] for row in q("SELECT order_id FROM latencies")]
        assert len(recorded) == len(set(recorded)), "analytics counted an order twice"
        assert set(recorded) <= set(told), "analytics counted an order it was never told of"
        if settled:  # analytics writes behind (a second at most): the outbox is the record
            assert sorted(told) == sorted(finished), "metrics outbox != finished orders"
        return on_hand
    finally:
        conn.close()


def csv_order_ids(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split(",")[2] for line in lines]


async def analytics_settled(system: System) -> bool:
    """True once analytics holds a row for every finished order and restock."""
    summary = await system.analytics()
    recorded = sum(s["completed"] + s["failed"] + s["cancelled"] for s in summary.values())
    orders, _ = await system.list_orders(limit=500)
    restocks, _ = await system.list_orders(limit=500, kind=OrderKind.RESTOCK)
    finished = sum(
        o.status in ("COMPLETED", "FAILED")
        or (o.status == "CANCELLED" and o.confirmed_at is not None)
        for o in orders + restocks
    )
    return recorded == finished

"""tools/fill_history: a small store with a history, opened by the store's own start.

What a user of the filled store would notice: it starts, its books balance (each
SKU's and each lot's on_hand is the sum of its movements), its orders, their history
and its analytics read back with the counts the fill wrote, and it still takes orders.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autogrocery.domain.models import OrderKind, OrderStatus
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import line
from tests.waiting import eventually
from tools.fill_history import fill, main

pytestmark = pytest.mark.timeout(120)

PRODUCTS, ORDERS, DAYS = 300, 2000, 90


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    data_dir = tmp_path_factory.mktemp("history") / "data"
    return data_dir, fill(data_dir, PRODUCTS, ORDERS, DAYS, seed=5)


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        found = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("products", "latencies", "metrics_outbox", "stock_settlements")
        }
        found["journal_wal"] = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # the ledger's checkpoint through every movement, and every ended order counted
        through = conn.execute(
            "SELECT value FROM history_marks WHERE key = 'ledger_through'"
        ).fetchone()[0]
        found["checkpoint_at_newest"] = (
            through == conn.execute("SELECT MAX(id) FROM movements").fetchone()[0]
        )
        found["orders_counted"] = (
            conn.execute("SELECT SUM(orders) FROM order_days").fetchone()[0]
            == conn.execute("SELECT COUNT(*) FROM orders WHERE ended_at IS NOT NULL").fetchone()[0]
        )
        return found
    finally:
        conn.close()


def test_the_fill_writes_what_it_was_asked(filled: tuple[Path, dict[str, float]]) -> None:
    data_dir, result = filled
    assert result["products"] == PRODUCTS
    assert result["orders"] == ORDERS
    assert result["cancelled"] > 0
    assert result["restocks"] > 0
    finished = ORDERS + int(result["restocks"])
    assert counts(data_dir / DB_NAME) == {
        "products": PRODUCTS,
        "latencies": finished,
        "metrics_outbox": finished,
        "stock_settlements": finished,
        "journal_wal": True,
        "checkpoint_at_newest": True,
        "orders_counted": True,
    }
    assert not (data_dir.parent / "data.filling").exists()
    csv_lines = (data_dir / "latency.csv").read_text().splitlines()
    assert len(csv_lines) == finished + 1  # and its header


def test_an_existing_data_dir_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    assert main(["--data-dir", str(tmp_path / "data"), "--orders", "10"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert "exists" in error
    assert list((tmp_path / "data").iterdir()) == []


async def test_the_store_opens_its_history_and_takes_orders(
    filled: tuple[Path, dict[str, float]], make_config: ConfigFactory
) -> None:
    data_dir, result = filled
    csv_before = (data_dir / "latency.csv").read_bytes()
    system = await start_system(make_config(data_dir=data_dir), robot_seed=3)
    try:
        await _check_books(system)
        assert (data_dir / "latency.csv").read_bytes() == csv_before  # nothing to catch up
        counted = {(kind, status): n for kind, status, n in await system.order_counts()}
        assert counted[("CUSTOMER", "COMPLETED")] == ORDERS
        assert counted[("CUSTOMER", "CANCELLED")] == result["cancelled"]
        assert counted[("RESTOCK", "COMPLETED")] == result["restocks"]
        assert len(await system.levels()) == PRODUCTS

        page, cursor = await system.list_orders(status="COMPLETED", limit=50)
        assert len(page) == 50
        assert cursor is not None
        history = await system.order_history(page[0].order_id)
        assert [status for status, _ in history] == ["PREVIEWED", "PROCESSING", "COMPLETED"]
        moved, _ = await system.movements(movement_type="WASTE", limit=10)
        assert moved

        analytics = await system.analytics()
        assert analytics["customer"]["completed"] == ORDERS
        assert analytics["restock"]["completed"] == result["restocks"]

        await _order_one_more(system)
        await _check_books(system)
    finally:
        await system.stop()


async def _check_books(system: System) -> None:
    skus = await system.reconcile()
    assert len(skus) == PRODUCTS
    assert [row for row in skus if not row["ok"]] == []
    lots = await system.lot_ledger()
    assert [row for row in lots if not row["ok"]] == []


async def _order_one_more(system: System) -> None:
    """A customer previews and confirms three products in stock, as ever."""
    popular = [level.sku for level in await system.levels() if level.available > 0][:3]
    order = await system.preview("usr_new", [line(sku, 1) for sku in popular])
    await system.confirm(order.order_id, "usr_new")

    async def completed() -> bool:
        stored = await system.reader.order(order.order_id, OrderKind.CUSTOMER, "usr_new")
        return stored is not None and stored.status == OrderStatus.COMPLETED

    await eventually(completed, within=20, what="the new order completes")

"""Retention: a store with a year of history (tools/fill_history) pruned to its window.

What an operator would notice: the history older than `store.retention_days` is gone,
the books still balance (reconcile), the reports over the pruned days and the order
counts read as before, what is inside the window is untouched, the file gives the
pages back, and orders keep completing while it prunes.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from autogrocery.domain.errors import NotFound
from autogrocery.domain.models import OrderKind, OrderStatus
from autogrocery.domain.reports import day_start
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import line
from tests.waiting import eventually
from tools.fill_history import fill

pytestmark = pytest.mark.timeout(180)

PRODUCTS, ORDERS, DAYS, KEPT_DAYS = 200, 1500, 365, 90


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("year") / "data"
    fill(data_dir, PRODUCTS, ORDERS, DAYS, seed=11)
    return data_dir


@pytest.fixture
def store_copy(year: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(year, copy)
    return copy


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def start(data_dir: Path, make_config: ConfigFactory, *overrides: str) -> System:
    return await start_system(
        make_config(
            f"store.retention_days={KEPT_DAYS}",
            "store.history_interval=3600",  # rounds only when the test runs one
            "store.history_batch=100",
            *overrides,
            data_dir=data_dir,
        ),
        robot_seed=3,
    )


async def reports(system: System) -> dict[str, Any]:
    today = system.today()
    usage = await system.reports.usage(366)
    return {
        "waste, the pruned months": await system.reports.waste(
            today - timedelta(days=300), today - timedelta(days=KEPT_DAYS + 5)
        ),
        "waste, across the edge": await system.reports.waste(
            today - timedelta(days=KEPT_DAYS + 30), today - timedelta(days=KEPT_DAYS - 30)
        ),
        "usage over the year, before today": {  # the test's own orders take stock today
            entry["sku"]: [day for day in entry["days"] if day["date"] != today.isoformat()]
            for entry in usage["skus"]
        },
        "orders by kind and status": sorted(await system.order_counts()),
    }


async def test_a_year_prunes_to_its_window_and_its_books_still_add_up(
    store_copy: Path, make_config: ConfigFactory
) -> None:
    db = store_copy / DB_NAME
    system = await start(store_copy, make_config)
    try:
        keeper = system.keeper
        assert keeper is not None
        cutoff = keeper.cutoff()
        assert cutoff is not None
        before = await reports(system)
        assert before["waste, the pruned months"]["skus"]  # the fill wasted in those months
        newest = rows(db, "SELECT MAX(id) FROM movements")[0][0]
        kept_movements = rows(db, "SELECT * FROM movements WHERE at >= ? ORDER BY id", (cutoff,))
        kept_orders = rows(
            db,
            "SELECT * FROM orders WHERE ended_at IS NULL OR ended_at >= ? ORDER BY order_id",
            (cutoff,),
        )
        old_order = rows(
            db, "SELECT order_id FROM orders WHERE kind = 'CUSTOMER' ORDER BY ended_at LIMIT 1"
        )[0][0]
        size_before = db.stat().st_size

        loop = asyncio.get_running_loop()
        pruning = loop.run_in_executor(None, keeper.run_round)
        taken = await asyncio.gather(*(order_one(system, f"usr_{n}") for n in range(5)))
        stats = await pruning

        assert len(taken) == 5  # every order completed while it pruned
        assert stats.movements > 0
        assert stats.orders > 0
        assert rows(db, "SELECT COUNT(*) FROM movements WHERE at < ?", (cutoff,)) == [(0,)]
        assert rows(db, "SELECT COUNT(*) FROM orders WHERE ended_at < ?", (cutoff,)) == [(0,)]
        assert (
            rows(
                db,
                "SELECT * FROM movements WHERE at >= ? AND id <= ? ORDER BY id",
                (cutoff, newest),
            )
            == kept_movements
        )
        assert [
            row
            for row in rows(
                db,
                "SELECT * FROM orders WHERE ended_at IS NULL OR ended_at >= ? ORDER BY order_id",
                (cutoff,),
            )
            if row[0] not in taken
        ] == kept_orders

        await check_books(system)
        after = await reports(system)
        after["orders by kind and status"] = sorted(
            (kind, status, n - (5 if (kind, status) == ("CUSTOMER", "COMPLETED") else 0))
            for kind, status, n in after["orders by kind and status"]
        )
        assert after == before
        with pytest.raises(NotFound):
            await system.order_history(old_order)
        assert rows(db, "PRAGMA auto_vacuum") == [(2,)]  # INCREMENTAL, as a new store is made
        assert rows(db, "PRAGMA freelist_count") == [(0,)]  # every freed page given back
        await eventually(  # once the store's checkpointer copies the log into the file
            lambda: db.stat().st_size < size_before, within=20, what="the file shrinks"
        )
    finally:
        await system.stop()


async def test_reconcile_still_catches_a_level_that_drifted_from_its_ledger(
    store_copy: Path, make_config: ConfigFactory
) -> None:
    """Every movement is inside the ledger's checkpoint (the fill folds them all): the
    check is the checkpoint's balance against the stored level, and still a check."""
    db = store_copy / DB_NAME
    sku = rows(db, "SELECT sku FROM products ORDER BY sku LIMIT 1")[0][0]
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE products SET on_hand = on_hand + 1 WHERE sku = ?", (sku,))
    conn.close()
    system = await start(store_copy, make_config, "store.retention_days=0")
    try:
        failed = [item["sku"] for item in await system.reconcile() if not item["ok"]]
        assert failed == [sku]
    finally:
        await system.stop()


async def check_books(system: System) -> None:
    skus = await system.reconcile()
    assert len(skus) == PRODUCTS
    assert [row for row in skus if not row["ok"]] == []
    assert [row for row in await system.lot_ledger() if not row["ok"]] == []


async def order_one(system: System, owner: str) -> str:
    """A customer orders one of three products in stock; its id once it completed."""
    popular = [level.sku for level in await system.levels() if level.available > 5][:3]
    order = await system.preview(owner, [line(sku, 1) for sku in popular])
    await system.confirm(order.order_id, owner)

    async def completed() -> bool:
        stored = await system.reader.order(order.order_id, OrderKind.CUSTOMER, owner)
        return stored is not None and stored.status == OrderStatus.COMPLETED

    await eventually(completed, within=30, what="the order completes")
    return str(order.order_id)


async def test_filtered_pages_walk_the_whole_history_newest_first(
    store_copy: Path, make_config: ConfigFactory
) -> None:
    """The ledger by type, by SKU and type, and a customer's orders by status, page
    after page by cursor, give what the tables hold, in order, each row once."""
    db = store_copy / DB_NAME
    sku, owner = rows(
        db,
        "SELECT m.sku, (SELECT owner FROM orders WHERE kind = 'CUSTOMER' "
        "GROUP BY owner ORDER BY COUNT(*) DESC LIMIT 1) FROM movements m "
        "WHERE m.type = 'IN' GROUP BY m.sku ORDER BY COUNT(*) DESC LIMIT 1",
    )[0]
    system = await start(store_copy, make_config, "store.retention_days=0")
    try:
        for wanted, sql, params in (
            ({"movement_type": "WASTE"}, "type = ?", ("WASTE",)),
            ({"sku": sku, "movement_type": "IN"}, "sku = ? AND type = ?", (sku, "IN")),
        ):
            ids: list[int] = []
            cursor = None
            while True:
                page, cursor = await system.movements(**wanted, limit=7, cursor=cursor)
                ids += [move.id for move in page]
                if cursor is None:
                    break
            expected = rows(db, f"SELECT id FROM movements WHERE {sql} ORDER BY id DESC", params)  # noqa: S608
            assert ids == [row[0] for row in expected]
            assert len(ids) > 7
        order_ids: list[str] = []
        cursor = None
        while True:
            orders, cursor = await system.list_orders(
                owner=owner, status="COMPLETED", limit=3, cursor=cursor
            )
            order_ids += [order.order_id for order in orders]
            if cursor is None:
                break
        expected_orders = rows(
            db,
            "SELECT order_id FROM orders WHERE kind = 'CUSTOMER' AND owner = ? "
            "AND status = 'COMPLETED' ORDER BY rowid DESC",
            (owner,),
        )
        assert order_ids == [row[0] for row in expected_orders]
        assert len(order_ids) > 3
    finally:
        await system.stop()


async def test_a_store_whose_whole_history_is_old_numbers_what_comes_next_after_it(
    store_copy: Path, make_config: ConfigFactory
) -> None:
    """Everything older than the window (the keeper's clock a year on): the newest
    movement, order and metric stay, so what comes next, after a restart too, takes
    ids and seqs above the ledger's checkpoint and above what analytics last saw."""
    db = store_copy / DB_NAME
    system = await start(store_copy, make_config)
    try:
        keeper = system.keeper
        assert keeper is not None
        keeper.clock = lambda: time.time() + 400 * 86400
        last_seq = rows(db, "SELECT MAX(seq) FROM metrics_outbox")[0][0]
        stats = await asyncio.get_running_loop().run_in_executor(None, keeper.run_round)
        assert stats.movements > 0
        assert stats.orders > 0
    finally:
        await system.stop()
    system = await start(store_copy, make_config)
    try:
        through = rows(db, "SELECT value FROM history_marks WHERE key = 'ledger_through'")[0][0]
        taken = await order_one(system, "usr_after")
        moved = rows(db, "SELECT MIN(id) FROM movements WHERE ref = ?", (taken,))[0][0]
        assert moved > through  # read as the ledger's tail, so the books still add up
        await check_books(system)
        seq = rows(db, "SELECT seq FROM metrics_outbox WHERE order_id = ?", (taken,))
        assert seq
        assert seq[0][0] > last_seq
    finally:
        await system.stop()


async def test_days_that_are_over_are_read_from_their_daily_totals_and_count_once(
    store_copy: Path, make_config: ConfigFactory
) -> None:
    """Nothing pruned (no window): a round adds every day before today to the daily
    totals, and the reports read them there and give what they gave from the movements
    themselves; today's movements, made after the round, still count, and once."""
    db = store_copy / DB_NAME
    system = await start(store_copy, make_config, "store.retention_days=0")
    try:
        keeper = system.keeper
        assert keeper is not None
        before = await whole_reports(system)
        assert rows(db, "SELECT COUNT(*) FROM movement_days") == [(0,)]

        loop = asyncio.get_running_loop()
        stats = await loop.run_in_executor(None, lambda: keeper.run_round(rest=False))

        today = system.today()
        oldest = rows(db, "SELECT MIN(at) FROM movements")[0][0]
        assert stats.days == (today - datetime.fromtimestamp(oldest, keeper.zone).date()).days
        assert rows(db, "SELECT value FROM history_marks WHERE key = 'days_through'") == [
            (day_start(today, keeper.zone),)
        ]
        assert rows(db, "SELECT SUM(movements) FROM movement_days") == rows(
            db, "SELECT COUNT(*) FROM movements WHERE at < ?", (day_start(today, keeper.zone),)
        )
        assert await whole_reports(system) == before
        assert (await loop.run_in_executor(None, keeper.run_round)).days == 0  # today is not over

        await order_one(system, "usr_today")
        after = await whole_reports(system)
        sold_today = {
            entry["sku"]: entry["total"] for entry in (await system.reports.usage(1))["skus"]
        }
        assert sum(sold_today.values()) == 3  # one each of three products
        for sku, units in sold_today.items():
            assert (
                after["usage"][sku]["total"]
                == before["usage"].get(sku, {"total": 0})["total"] + units
            )
    finally:
        await system.stop()


async def whole_reports(system: System) -> dict[str, Any]:
    """A year of usage by day, whole and page by page, and of waste."""
    today = system.today()
    usage = await system.reports.usage(366)
    paged: list[dict[str, Any]] = []
    after = ""
    while True:
        page = await system.reports.usage(366, (7, after))
        paged += page["skus"]
        if page["next_cursor"] is None:
            break
        after = page["next_cursor"]
    assert paged == usage["skus"]
    waste = await system.reports.waste(today - timedelta(days=365), today)
    return {"usage": {entry["sku"]: entry for entry in usage["skus"]}, "waste": waste}

"""Reports and the books check a page at a time, on a store with a filled history: the
pages, walked to the end, say exactly what the whole report says; a month's figures
add up to its days'; the books check lists only what is wrong."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from autogrocery.domain.records import LotLevel, StockLevel
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tools.fill_history import fill

pytestmark = pytest.mark.timeout(120)

PRODUCTS, ORDERS, DAYS = 120, 800, 60


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("reports") / "data"
    fill(data_dir, PRODUCTS, ORDERS, DAYS, seed=11)
    return data_dir


async def _walk(read: Any, size: int) -> list[dict[str, Any]]:
    """Every page of a report, `size` SKUs at a time, joined."""
    entries: list[dict[str, Any]] = []
    after = ""
    for _ in range(PRODUCTS + 1):
        report = await read((size, after))
        assert len(report["skus"]) <= size
        entries += report["skus"]
        if report["next_cursor"] is None:
            return entries
        after = report["next_cursor"]
    raise AssertionError("the pages never ended")


async def test_report_pages_add_up_to_the_whole_report(
    filled: Path, make_config: ConfigFactory
) -> None:
    system = await start_system(make_config(data_dir=filled), robot_seed=3)
    try:
        reports = system.reports
        whole = await reports.usage(DAYS)
        assert len(whole["skus"]) > 20  # enough SKUs for several pages
        paged = await _walk(lambda page: reports.usage(DAYS, page), 7)
        assert paged == whole["skus"]

        monthly = await _walk(lambda page: reports.usage(DAYS, page, "month"), 9)
        assert [m["sku"] for m in monthly] == [d["sku"] for d in whole["skus"]]
        for by_month, by_day in zip(monthly, whole["skus"], strict=True):
            assert by_month["total"] == by_day["total"]
            assert sum(m["quantity"] for m in by_month["months"]) == by_day["total"]
            assert len(by_month["months"]) <= DAYS // 28 + 2

        last = system.today()
        first = last - timedelta(days=DAYS)
        waste = await reports.waste(first, last)
        assert len(waste["skus"]) > 10
        wasted = await _walk(lambda page: reports.waste(first, last, page), 5)
        assert wasted == waste["skus"]
        assert (await reports.waste(first, last, (5, "")))["total_value"] is None
    finally:
        await system.stop()


async def test_expiring_pages_list_every_lot_once_soonest_first(
    filled: Path, make_config: ConfigFactory
) -> None:
    system = await start_system(make_config(data_dir=filled), robot_seed=3)
    try:
        whole = await system.reports.expiring(30)
        assert len(whole) > 10
        paged: list[tuple[LotLevel, StockLevel]] = []
        after = None
        while True:
            page = await system.reports.expiring(30, 4, after)
            paged += page
            if len(page) < 4:
                break
            last = page[-1][0]
            after = (last.expiry.isoformat() if last.expiry else "", last.sku, last.lot_id)
        assert paged == whole
        expiries = [lot.expiry for lot, _ in paged]
        assert expiries == sorted(expiries)
    finally:
        await system.stop()


async def test_the_books_check_lists_only_the_skus_that_disagree(
    filled: Path, make_config: ConfigFactory
) -> None:
    system = await start_system(make_config(data_dir=filled), robot_seed=3)
    try:
        books = await system.reconciliation()
        assert books == {"ok": True, "checked": PRODUCTS, "items": [], "next_cursor": None}
        listed = await _walk_books(system)
        assert listed == sorted(listed)
        assert len(listed) == PRODUCTS
        sku = listed[17]
    finally:
        await system.stop()

    conn = sqlite3.connect(filled / DB_NAME)
    with conn:
        conn.execute("UPDATE products SET on_hand = on_hand + 3 WHERE sku = ?", (sku,))
    conn.close()
    system = await start_system(make_config(data_dir=filled), robot_seed=3)
    try:
        books = await system.reconciliation()
        assert books["ok"] is False
        assert books["checked"] == PRODUCTS
        assert [(item["sku"], item["on_hand"] - item["ledger"]) for item in books["items"]] == [
            (sku, 3)
        ]
    finally:
        await system.stop()
        conn = sqlite3.connect(filled / DB_NAME)
        with conn:
            conn.execute("UPDATE products SET on_hand = on_hand - 3 WHERE sku = ?", (sku,))
        conn.close()


async def _walk_books(system: System) -> list[str]:
    skus: list[str] = []
    after = ""
    for _ in range(PRODUCTS):
        page = await system.reconciliation(50, after)
        assert page["ok"] is True
        skus += [item["sku"] for item in page["items"] if item["ok"]]
        if page["next_cursor"] is None:
            return skus
        after = page["next_cursor"]
    raise AssertionError("the pages never ended")

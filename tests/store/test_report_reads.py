"""What the reports read from the ledger: movements summed in SQL, yet each sum within one
store day, whatever the zone's offset (half and quarter hours too)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autogrocery.domain.catalog import load_catalog
from autogrocery.domain.reports import day_runs, usage_by_day, waste_by_sku
from autogrocery.store.db import open_store
from autogrocery.store.reads import Reader
from tests.conftest import ConfigFactory

KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+05:45


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=KATHMANDU).timestamp()


@pytest.mark.timeout(30)
async def test_report_reads_sum_in_sql_and_keep_the_store_s_days(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    sku = load_catalog(make_config().catalog_file)[0].sku
    path = open_store(tmp_path / "d", load_catalog(make_config().catalog_file))
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO lots (lot_id, sku, unit_cost, on_hand, received_at) "
            "VALUES (?, ?, ?, 0, 0)",
            [("cheap", sku, 100), ("dear", sku, 250)],
        )
        history = [("OUT", -1, at("2026-03-07T23:59:59"), "cheap")] * 500  # the 7th
        history += [("OUT", -2, at("2026-03-08T00:00:00"), "cheap")] * 300  # the 8th
        history += [("WASTE", -1, at("2026-03-08T10:00"), "cheap")] * 4
        history += [("WASTE", -3, at("2026-03-08T10:01"), "dear")]
        conn.executemany(
            "INSERT INTO movements (sku, type, delta, at, lot) VALUES (?, ?, ?, ?, ?)",
            [(sku, kind, delta, when, lot) for kind, delta, when, lot in history],
        )
    reader = await Reader.open(path)
    try:
        since, until = at("2026-03-07T00:00"), at("2026-03-09T00:00")
        taken = await reader.moved("OUT", since, until)
        assert len(taken) == 2  # 800 movements, one sum per quarter hour and lot cost
        assert usage_by_day(taken, KATHMANDU) == {
            sku: {date(2026, 3, 7): 500, date(2026, 3, 8): 600}
        }
        wasted = waste_by_sku(await reader.moved("WASTE", since, until))
        assert [(w.quantity, w.value) for w in wasted] == [(7, 4 * 100 + 3 * 250)]
    finally:
        await reader.close()


NEW_YORK = ZoneInfo("America/New_York")  # its clocks go forward on 2026-03-08


@pytest.mark.timeout(30)
async def test_a_report_page_sums_per_store_day_across_a_clock_change(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    first, second, *_ = [product.sku for product in load_catalog(make_config().catalog_file)]
    path = open_store(tmp_path / "d", load_catalog(make_config().catalog_file))

    def local(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).timestamp()

    history = [(first, -1, local("2026-03-07T23:59:59"))] * 5  # the 7th
    history += [(first, -2, local("2026-03-08T00:00:00"))] * 3  # the 8th: 23 hours long
    history += [(first, -1, local("2026-03-08T23:59:00"))] * 4
    history += [(first, -7, local("2026-03-09T00:00:01"))]  # the 9th
    history += [(second, -1, local("2026-03-08T12:00"))] * 2
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO movements (sku, type, delta, at) VALUES (?, 'OUT', ?, ?)", history
        )
    reader = await Reader.open(path)
    try:
        runs = day_runs(date(2026, 3, 7), 3, NEW_YORK)
        assert [end - start for start, end, _ in runs] == [86400, 82800, 86400]
        taken = await reader.moved_page("OUT", runs, "", 1, costed=False)
        assert len(taken) == 3  # one sum per day
        assert usage_by_day(taken, NEW_YORK) == {
            first: {date(2026, 3, 7): 5, date(2026, 3, 8): 10, date(2026, 3, 9): 7}
        }
        following = await reader.moved_page("OUT", runs, first, 1, costed=False)
        assert usage_by_day(following, NEW_YORK) == {second: {date(2026, 3, 8): 2}}
    finally:
        await reader.close()

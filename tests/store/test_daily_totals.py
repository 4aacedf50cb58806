"""The daily totals (store/history_fold.py) change no report: a young store's age,
and a movement committed after its day was totalled, count as they did without them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory

DAY = 86400.0


@pytest.fixture
async def system(make_config: ConfigFactory) -> AsyncIterator[System]:
    config = make_config("store.retention_days=0", "store.history_interval=3600")
    started = await start_system(config, robot_seed=3)
    yield started
    await started.stop()


def _db(system: System) -> Path:
    return system.supervisor.ctx.db_path


async def _round(system: System) -> None:
    keeper = system.keeper
    assert keeper is not None
    await asyncio.get_running_loop().run_in_executor(None, lambda: keeper.run_round(rest=False))


def _write(db: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(db, timeout=10)
    with conn:
        conn.execute(sql, params)
    conn.close()


async def test_a_store_opened_yesterday_afternoon_is_as_old_after_its_first_day_is_totalled(
    system: System,
) -> None:
    """Its first day starts at midnight in the totals: its age must not."""
    _write(_db(system), "UPDATE movements SET at = at - ?", (1.4 * DAY,))  # opened 34 h ago
    span = await system.reports.span(7)
    assert 1.3 < span < 1.5
    await _round(system)
    folded = sqlite3.connect(_db(system)).execute("SELECT COUNT(*) FROM movement_days")
    assert folded.fetchone()[0] > 0  # its first day is in the totals now
    assert await system.reports.span(7) == pytest.approx(span, abs=0.001)


async def test_a_movement_committed_after_its_day_was_totalled_still_counts_once(
    system: System,
) -> None:
    """A batch held past midnight, or a clock set back: the movement is stamped before
    the totals' mark but committed after it. The next round adds it to its own day."""
    db = _db(system)
    _write(db, "UPDATE movements SET at = at - ?", (3 * DAY,))  # three days of history
    await _round(system)
    sku = sqlite3.connect(db).execute("SELECT sku FROM products ORDER BY sku").fetchone()[0]
    before = await _used(system, sku)
    two_days_ago = sqlite3.connect(db).execute("SELECT MIN(at) FROM movements").fetchone()[0]
    _write(
        db,
        "INSERT INTO movements (sku, type, delta, ref, user, at) "
        "VALUES (?, 'OUT', -4, 'late', 'test', ?)",
        (sku, two_days_ago + DAY),
    )
    await _round(system)
    assert await _used(system, sku) == before + 4
    await _round(system)  # and only once
    assert await _used(system, sku) == before + 4


async def _used(system: System, sku: str) -> int:
    usage = await system.reports.usage(7)
    return sum(entry["total"] for entry in usage["skus"] if entry["sku"] == sku)

"""Crash drill: SIGKILL a running store mid-flight; the restarted store finishes every
acknowledged order exactly once and the books balance."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from autogrocery.domain.models import OrderKind
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, csv_order_ids, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]


async def test_sigkill_mid_flight_then_restart_completes_everything_once(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "crash"
    driver = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.crash_driver",
        str(data_dir),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    confirmed: list[str] = []
    previewed: list[str] = []
    restocks: list[str] = []
    wasted: list[str] = []
    cancelling: set[str] = set()  # a cancel was sent: it may or may not have happened
    cancelled: set[str] = set()  # acknowledged: must stay CANCELLED
    assert driver.stdout is not None
    try:
        async with asyncio.timeout(60):
            while len(confirmed) < 120:
                line = (await driver.stdout.readline()).decode().split()
                assert line, "driver ended early"
                if line[0] == "CONFIRMED":
                    confirmed.append(line[1])
                elif line[0] == "PREVIEWED":
                    previewed.append(line[1])
                elif line[0] == "RESTOCK":
                    restocks.append(line[1])
                elif line[0] == "WASTE":
                    wasted.append(line[1])
                elif line[0] == "CANCELLING":
                    cancelling.add(line[1])
                elif line[0] == "CANCELLED":
                    cancelled.add(line[1])
    finally:
        driver.send_signal(signal.SIGKILL)
        await driver.wait()

    with sqlite3.connect(data_dir / DB_NAME) as conn:
        in_flight = conn.execute(
            "SELECT order_id, kind FROM orders WHERE status = 'PROCESSING'"
        ).fetchall()
    # A delivery being shelved at the kill is in flight too; it is read as a restock.
    stored_processing = {oid for oid, kind in in_flight if kind == OrderKind.CUSTOMER}
    restocks.extend(oid for oid, kind in in_flight if kind == OrderKind.RESTOCK)
    assert in_flight, "the kill should land while orders are in flight"
    check_invariants(data_dir, settled=False)

    config = make_config("robots.per_aisle=2", data_dir=data_dir)
    system = await start_system(config)
    try:
        final = await wait_final(
            system, set(confirmed) | stored_processing, restocks=set(restocks), within=60
        )
        for order_id, view in final.items():
            expected = (
                {"CANCELLED"}
                if order_id in cancelled
                else {"COMPLETED", "CANCELLED"}
                if order_id in cancelling
                else {"COMPLETED"}
            )
            assert view.status in expected, (order_id, view.status)
        assert cancelled, "the drill should have cancelled orders while robots picked"
        for order_id in set(previewed) - set(final):
            order = await system.get_order(order_id)
            if order.status == "PREVIEWED":
                await system.cancel(order_id)
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(data_dir)
        with sqlite3.connect(data_dir / DB_NAME) as conn:
            finished, outbox, distinct = conn.execute(
                "SELECT (SELECT COUNT(*) FROM orders WHERE status IN ('COMPLETED', 'FAILED') "
                "OR (status = 'CANCELLED' AND confirmed_at IS NOT NULL)), "
                "COUNT(*), COUNT(DISTINCT order_id) FROM metrics_outbox"
            ).fetchone()
            dated = conn.execute("SELECT COUNT(*) FROM lots WHERE expiry_date IS NOT NULL")
            assert dated.fetchone()[0] > 0, "the drill should have shelved dated lots"
            notes = {row[0] for row in conn.execute("SELECT ref FROM movements")}
        assert finished == outbox == distinct, "an order finished twice (or not at all)"
        assert restocks, "the kill should come after a delivery"
        assert set(wasted) <= notes, "an acknowledged write-off was lost"
        ids = csv_order_ids(config.csv_file)
        assert len(ids) == len(set(ids)), "an order was counted twice in the CSV"
    finally:
        await system.stop()

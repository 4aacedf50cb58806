"""Analytics: one row and one CSV line per finished order, across crashes."""

from __future__ import annotations

import sqlite3

import pytest

from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, csv_order_ids, line, wait_final
from tests.waiting import eventually


async def place(system: object, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        preview = await system.preview("fridge-1", [line("BRD-006", 1)])  # type: ignore[attr-defined]
        await system.confirm(preview.order_id, "fridge-1")  # type: ignore[attr-defined]
        ids.append(preview.order_id)
    await wait_final(system, ids)  # type: ignore[arg-type]
    return ids


async def test_csv_and_table_are_repaired_after_a_crash(make_config: ConfigFactory) -> None:
    config = make_config()
    system = await start_system(config)
    try:
        ids = await place(system, 6)
        await eventually(lambda: analytics_settled(system), within=10)
    finally:
        await system.stop()
    # Simulate crashes: a torn last CSV line, a row that never reached the CSV, and a
    # metric in the outbox that analytics never recorded.
    text = config.csv_file.read_text()
    lines = text.splitlines(keepends=True)
    config.csv_file.write_text("".join(lines[:-2]) + lines[-2][:10])
    with sqlite3.connect(config.data_path / DB_NAME) as conn:
        conn.execute("DELETE FROM latencies WHERE order_id = ?", (ids[-1],))
    system = await start_system(config)
    try:
        await eventually(lambda: analytics_settled(system), within=10)
        assert sorted(csv_order_ids(config.csv_file)) == sorted(ids)
        summary = await system.analytics()
        assert summary["customer"]["completed"] == 6
        latency = summary["customer"]["latency_ms"]
        assert 0 <= latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
        assert summary["customer"]["per_minute"] == 6
        assert summary["restock"] == {
            "completed": 0,
            "failed": 0,
            "cancelled": 0,
            "per_minute": 0,
            "latency_ms": {"p50": None, "p95": None, "p99": None, "max": None},
        }
    finally:
        await system.stop()


async def test_each_order_state_change_is_one_log_line(
    make_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    system = await start_system(make_config())
    try:
        caplog.set_level("INFO", logger="autogrocery.actors.ordering")
        [order_id] = await place(system, 1)
    finally:
        await system.stop()
    changes = [r.getMessage() for r in caplog.records if order_id in r.getMessage()]
    assert changes == [
        f"order {order_id} new -> PREVIEWED",
        f"order {order_id} PREVIEWED -> PROCESSING",
        f"order {order_id} PROCESSING -> COMPLETED",
    ]

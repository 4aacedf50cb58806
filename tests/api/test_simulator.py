"""The demo's simulator against a real store over HTTP: its trucks bring fresh food as
dated lots from the start, so expiry alerts and first-expired-first-out picking show
within the first minute."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from autogrocery.client import Credentials
from autogrocery.simulate import Simulation, Simulator
from autogrocery.store.db import DB_NAME
from tests.api.conftest import ADMIN_PASSWORD, TRUCK_PASSWORD, ApiFactory
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)

FRESH = {"BRD-005": 1, "DAI-002": 6, "MEA-002": 2}  # SKU: shelf life in days


async def test_simulated_trucks_deliver_dated_fresh_food_that_is_picked_first(
    make_api: ApiFactory,
) -> None:
    # A store whose calendar day differs from UTC's right now, so lots dated by the UTC
    # day would be a day off: UTC+14 once UTC is past 10:00, UTC-11 before 11:00.
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 12 else "Pacific/Pago_Pago"
    api = await make_api("robots.per_aisle=2", f"stock.time_zone={zone}")
    simulator = Simulator(
        Simulation(
            str(api.client.make_url("")).rstrip("/"),
            Credentials("admin", ADMIN_PASSWORD),
            Credentials("truck-1", TRUCK_PASSWORD),
            "sim-fridge-pass-1",
            rate=40,
            restock_interval=0.2,
            seed=3,
            shelf_lives=FRESH,
            time_zone=zone,
        )
    )
    running = asyncio.create_task(simulator.run())
    try:
        operator = await api.operator()

        async def fresh_lots() -> list[dict[str, Any]] | None:
            _, body, _ = await api.call("GET", "/api/ops/expiring?within=30d", operator)
            lots = [lot for lot in body["lots"] if lot["sku"] in FRESH]
            return lots if {lot["sku"] for lot in lots} == set(FRESH) else None

        lots = await eventually(fresh_lots, within=40)
        assert all(0 < lot["days_left"] <= FRESH[lot["sku"]] + 1 for lot in lots)
        with contextlib.closing(sqlite3.connect(api.config.data_path / DB_NAME)) as db:
            made = db.execute("SELECT DISTINCT mfd_date FROM order_lines WHERE mfd_date NOT NULL")
            # made "today" by the store's calendar, not UTC's
            assert [row[0] for row in made] == [datetime.now(ZoneInfo(zone)).date().isoformat()]

        async def expiring_alert() -> bool:
            _, body, _ = await api.call("GET", "/api/ops/alerts", operator)
            return any(a["kind"] == "expiring" and a["sku"] == "BRD-005" for a in body["alerts"])

        await eventually(expiring_alert, within=10)  # a one-day loaf is due at once

        async def picked_from_a_dated_lot() -> bool:
            _, body, _ = await api.call("GET", "/api/ops/movements?type=OUT&limit=1000", operator)
            dated = {lot["lot_id"] for lot in lots}
            return any(m["lot_id"] in dated for m in body["movements"])

        await eventually(picked_from_a_dated_lot, within=40)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert simulator.stats.errors == 0, simulator.stats.last_error

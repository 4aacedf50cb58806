"""Cancelling an order while robots pick it: tasks not begun are withdrawn, what was
picked goes back on the shelf (OUT then RETURN, into the same lots), nothing is billed,
analytics counts the cancellation; exactly once across races, duplicates and restarts."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from autogrocery.domain.errors import Conflict
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)


async def level(system: System, sku: str) -> tuple[int, int]:
    item = next(i for i in await system.levels() if i.sku == sku)
    return item.on_hand, item.reserved


async def robot(system: System, robot_id: str) -> dict[str, Any]:
    return next(r for r in await system.robots() if r.robot_id == robot_id)


async def test_a_cancel_while_robots_pick_puts_back_what_was_picked_and_withdraws_the_rest(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.01")
    system = await start_system(config, robot_seed=7)
    try:
        before = {sku: await level(system, sku) for sku in ("BRD-001", "MEA-001", "MEA-002")}
        # The meat robot is busy with a long pick (2 s), so the order's meat task waits
        # in its queue; its bread is picked at once.
        long = await system.preview("fridge-2", [line("MEA-002", 200)])
        await system.confirm(long.order_id, "fridge-2")
        order = await system.preview("fridge-1", [line("BRD-001", 2), line("MEA-001", 3)])
        await system.confirm(order.order_id, "fridge-1")
        await eventually(lambda: _done(robot(system, "bread-1"), 1), within=10)

        cancelled = await system.cancel(order.order_id, "fridge-1")
        assert (cancelled.order_id, cancelled.status) == (order.order_id, "CANCELLED")

        view = await system.get_order(order.order_id, "fridge-1")
        assert (view.status, view.completed_at) == ("CANCELLED", None)
        history = await system.order_history(order.order_id, "fridge-1")
        assert [status for status, _ in history] == ["PREVIEWED", "PROCESSING", "CANCELLED"]
        assert await level(system, "BRD-001") == before["BRD-001"]  # back on the shelf
        assert await level(system, "MEA-001") == before["MEA-001"]  # never picked
        bread, _ = await system.movements(sku="BRD-001")
        mine = [(m.type, m.delta) for m in bread if m.ref == order.order_id]
        assert sorted(mine) == [("OUT", -2), ("RETURN", 2)]
        meat, _ = await system.movements(sku="MEA-001")
        assert [m for m in meat if m.ref == order.order_id] == []

        await wait_final(system, [long.order_id], within=30)
        meat_robot = await robot(system, "meat-1")
        assert meat_robot.tasks_done == 1  # the long pick only: the withdrawn one never began
        assert meat_robot.state == "idle"
        await eventually(lambda: analytics_settled(system), within=10)  # its rows follow
        summary = await system.analytics()
        assert (summary["customer"]["cancelled"], summary["customer"]["completed"]) == (1, 1)
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def test_an_order_ends_once_when_a_cancel_races_the_last_pick(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=2")  # instant robots: the race is close
    system = await start_system(config, robot_seed=7)
    try:
        previews = [
            await system.preview(f"fridge-{n % 5}", [line("DAI-001", 1)]) for n in range(120)
        ]

        async def confirm_and_cancel(n: int, order_id: str) -> str:
            owner = f"fridge-{n % 5}"
            await system.confirm(order_id, owner)
            try:
                return (await system.cancel(order_id, owner)).status
            except Conflict:
                return "REFUSED"

        said = await asyncio.gather(
            *(confirm_and_cancel(n, p.order_id) for n, p in enumerate(previews))
        )
        final = await wait_final(system, [p.order_id for p in previews], within=60)
        for answer, preview in zip(said, previews, strict=True):
            status = final[preview.order_id].status
            assert (answer, status) in {("CANCELLED", "CANCELLED"), ("REFUSED", "COMPLETED")}
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def test_duplicate_cancels_of_a_processing_order_cancel_it_once(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.01")
    system = await start_system(config, robot_seed=7)
    try:
        order = await system.preview("fridge-1", [line("BRD-002", 1), line("MEA-001", 150)])
        await system.confirm(order.order_id, "fridge-1")
        await eventually(lambda: _done(robot(system, "bread-1"), 1), within=10)
        answers = await asyncio.gather(
            *(system.cancel(order.order_id, "fridge-1") for _ in range(10))
        )
        assert {a.status for a in answers} == {"CANCELLED"}
        moves, _ = await system.movements(sku="BRD-002")
        mine = sorted((m.type, m.delta) for m in moves if m.ref == order.order_id)
        assert mine == [("OUT", -1), ("RETURN", 1)]
        await eventually(lambda: analytics_settled(system), within=10)
        assert (await system.analytics())["customer"]["cancelled"] == 1
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def test_a_completed_or_failed_order_cannot_be_cancelled(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=1", "robots.failure_probability=0.999")
    system = await start_system(config, robot_seed=7)
    try:
        failing = await system.preview("fridge-1", [line("DAI-002", 1)])
        await system.confirm(failing.order_id, "fridge-1")
        final = await wait_final(system, [failing.order_id])
        assert final[failing.order_id].status == "FAILED"
        with pytest.raises(Conflict, match="FAILED"):
            await system.cancel(failing.order_id, "fridge-1")
    finally:
        await system.stop()
    config = make_config("robots.per_aisle=1")
    system = await start_system(config, robot_seed=7)
    try:
        done = await system.preview("fridge-1", [line("DAI-002", 1)])
        await system.confirm(done.order_id, "fridge-1")
        await wait_final(system, [done.order_id])
        with pytest.raises(Conflict, match="COMPLETED"):
            await system.cancel(done.order_id, "fridge-1")
        assert (await system.get_order(done.order_id)).status == "COMPLETED"
    finally:
        await system.stop()


async def test_a_cancel_cut_short_by_a_crash_is_finished_on_restart(
    make_config: ConfigFactory,
) -> None:
    """Fulfilment committed the withdrawal, then the process died before stock and
    ordering heard of it: the next start finishes the cancellation, once."""
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.01")
    system = await start_system(config, robot_seed=7)
    try:
        before = await level(system, "BRD-003")
        order = await system.preview("fridge-1", [line("BRD-003", 2), line("MEA-003", 200)])
        await system.confirm(order.order_id, "fridge-1")
        await eventually(lambda: _done(robot(system, "bread-1"), 1), within=10)
    finally:
        await system.stop()  # the meat task is still PENDING
    with sqlite3.connect(config.data_path / DB_NAME) as conn:
        changed = conn.execute(
            "UPDATE tasks SET status = 'CANCELLED' WHERE order_id = ? AND status = 'PENDING'",
            (order.order_id,),
        ).rowcount
        assert changed == 1
    for _ in range(2):  # and once more: nothing is done twice
        system = await start_system(config, robot_seed=7)
        try:
            final = await wait_final(system, [order.order_id], within=30)
            assert final[order.order_id].status == "CANCELLED"
            assert await level(system, "BRD-003") == before
            moves, _ = await system.movements(sku="BRD-003")
            mine = sorted((m.type, m.delta) for m in moves if m.ref == order.order_id)
            assert mine == [("OUT", -2), ("RETURN", 2)]
            check_invariants(config.data_path)
        finally:
            await system.stop()


async def _done(robot_view: Any, count: int) -> bool:
    return (await robot_view).tasks_done >= count

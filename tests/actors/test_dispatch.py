"""Robot dispatch: customer picks go before shelving, shelving is cut into chunks and
still finishes, and a robot busy with a long task says how far it got."""

from __future__ import annotations

import asyncio
import time

import pytest

from autogrocery.actors.fulfilment import chunked
from autogrocery.actors.robot import WorkQueue
from autogrocery.domain.messages.fulfilment import RobotTask, TaskLine
from autogrocery.domain.models import TaskKind
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import check_invariants, line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)


def task(task_id: str, op: TaskKind = TaskKind.PICK) -> RobotTask:
    return RobotTask(task_id, "o", op, "bread", (TaskLine("BRD-001", 1),), priority=op.priority)


def test_a_queue_gives_picks_first_and_shelving_its_turn() -> None:
    queue = WorkQueue(turn=2)
    for n in range(3):
        queue.add(task(f"s{n}", TaskKind.SHELVE))
    for n in range(5):
        queue.add(task(f"p{n}"))
    order = []
    while (next_task := queue.next()) is not None:
        order.append(next_task.task_id)
    # two picks, then shelving's turn; picks oldest first; shelving finishes
    assert order == ["p0", "p1", "s0", "p2", "p3", "s1", "p4", "s2"]


def test_a_queue_keeps_a_resent_task_once_and_drops_withdrawn_ones() -> None:
    queue = WorkQueue()
    queue.add(task("a"))
    queue.add(task("b"))
    queue.add(task("a"))  # re-sent while queued
    assert len(queue) == 2
    assert queue.remove(["a", "gone"]) == ["a"]
    assert [queue.next(), queue.next()] == [task("b"), None]


def test_shelving_is_cut_into_chunks_of_at_most_the_chunk_size() -> None:
    lines = [TaskLine("A", 25), TaskLine("B", 3), TaskLine("C", 2)]
    parts = chunked(lines, 10)
    assert [sum(ln.quantity for ln in part) for part in parts] == [10, 10, 10]
    assert parts[2] == (TaskLine("A", 5), TaskLine("B", 3), TaskLine("C", 2))
    totals: dict[str, int] = {}
    for part in parts:
        for task_line in part:
            totals[task_line.sku] = totals.get(task_line.sku, 0) + task_line.quantity
    assert totals == {"A": 25, "B": 3, "C": 2}


async def test_a_customer_pick_does_not_wait_for_a_delivery_to_be_shelved(
    make_config: ConfigFactory,
) -> None:
    """One bread robot, 1,000 units of bread to shelve (5 s of work): orders placed
    meanwhile complete while the delivery is still being shelved, and the delivery
    finishes too."""
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.005")
    system = await start_system(config, robot_seed=7)
    try:
        restock = await system.restock("truck-1", [line("BRD-001", 1000, "1.00")])
        restock_id = restock.order_id
        order_ids = []
        for _ in range(3):
            preview = await system.preview("fridge-1", [line("BRD-002", 2)])
            await system.confirm(preview.order_id, "fridge-1")
            order_ids.append(preview.order_id)
            final = await wait_final(system, order_ids[-1:], within=30)
            assert final[order_ids[-1]].status == "COMPLETED"
            assert (await system.get_restock(restock_id)).status == "PROCESSING"
        done = await wait_final(system, [], restocks=[restock_id], within=60)
        assert done[restock_id].status == "COMPLETED"
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def test_shelving_finishes_under_a_steady_stream_of_picks(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.005", "robots.shelve_chunk=5")
    system = await start_system(config, robot_seed=7)
    try:
        restock = await system.restock("truck-1", [line("BRD-001", 100, "1.00")])
        restock_id = restock.order_id
        placed: list[str] = []
        while (await system.get_restock(restock_id)).status == "PROCESSING":
            assert len(placed) < 2000, "shelving starved behind the picks"
            for _ in range(4):  # always picks waiting
                preview = await system.preview("fridge-1", [line("BRD-002", 1)])
                await system.confirm(preview.order_id, "fridge-1")
                placed.append(preview.order_id)
            await asyncio.sleep(0.01)
        assert (await system.get_restock(restock_id)).status == "COMPLETED"
        final = await wait_final(system, placed, within=60)
        assert {view.status for view in final.values()} == {"COMPLETED"}
    finally:
        await system.stop()


async def test_a_robot_busy_with_a_long_task_says_how_far_it_got(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.01")
    system = await start_system(config, robot_seed=7)
    try:
        preview = await system.preview("fridge-1", [line("BRD-001", 150)])
        await system.confirm(preview.order_id, "fridge-1")  # 1.5 s of picking

        async def working() -> dict | None:
            robot = next(r for r in await system.robots() if r.robot_id == "bread-1")
            work = robot.working_on
            return robot if work is not None and work.done > 0 else None

        robot = await eventually(working, within=30)
        assert robot.state == "busy"
        assert robot.working_on.order_id == preview.order_id
        assert robot.working_on.of == 150
        seen = robot.last_seen
        assert time.time() - seen < 10  # seen while at work, not when it began
        await wait_final(system, [preview.order_id], within=30)
        robot = next(r for r in await system.robots() if r.robot_id == "bread-1")
        assert (robot.state, robot.working_on) == ("idle", None)
    finally:
        await system.stop()

"""Robots in separate `autogrocery robot` processes over ZeroMQ on 127.0.0.1: a full
fleet, a robot killed while it holds tasks, a whole aisle killed, and the aisle deadline."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, csv_order_ids, line, wait_final
from tests.remote import (
    AISLES,
    HEARTBEAT,
    MISSES,
    Spawner,
    csv_lines,
    metrics_endpoint,
    online,
    robot_state,
    robots_endpoint,
    zmq_overrides,
)
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    with Spawner(tmp_path) as spawner:
        yield spawner


async def place(
    system: System, n: int, skus: list[str], *, lines: int = 3, seed: int = 1
) -> list[str]:
    """Preview and confirm `n` orders, 16 at a time; return their ids."""
    rng = random.Random(seed)
    baskets = [
        [line(s, rng.randint(1, 2)) for s in rng.sample(skus, min(lines, len(skus)))]
        for _ in range(n)
    ]
    gate = asyncio.Semaphore(16)

    async def order(number: int, items: list[dict[str, object]]) -> str:
        async with gate:
            preview = await system.preview(f"fridge-{number % 7}", items)
            await system.confirm(preview.order_id, f"fridge-{number % 7}")
            return str(preview.order_id)

    return list(await asyncio.gather(*(order(n, b) for n, b in enumerate(baskets))))


async def skus_of(system: System, aisle: str | None = None) -> list[str]:
    return [i.sku for i in await system.levels() if aisle in (None, i.aisle)]


async def test_300_orders_served_by_two_robot_processes_per_aisle(
    make_config: ConfigFactory, spawn: Spawner
) -> None:
    config = make_config(*zmq_overrides())
    system = await start_system(config)
    try:
        endpoint = robots_endpoint(system)
        for aisle in AISLES:
            for number in (1, 2):
                spawn.robot(endpoint, aisle, f"{aisle}-p{number}", pick_time=0.001)
        await eventually(lambda: _count(online(system), 10), within=30)
        ids = await place(system, 300, await skus_of(system))
        final = await wait_final(system, ids, within=60)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        robots = await system.robots()
        assert {r.robot_id.rsplit("-", 2)[0] for r in robots} == set(AISLES)
        assert all(r.tasks_done > 0 for r in robots), robots  # both processes of each aisle
        assert sum(r.tasks_failed for r in robots) == 0
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
        assert system.robot_hub.stats()["bad_frames"] == 0
    finally:
        await system.stop()


async def test_a_robot_process_killed_while_it_holds_tasks(
    make_config: ConfigFactory, spawn: Spawner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="autogrocery.transports.fleet")
    config = make_config(*zmq_overrides())
    system = await start_system(config)
    try:
        endpoint = robots_endpoint(system)
        victim = spawn.robot(endpoint, "bread", "victim", pick_time=0.02)
        spawn.robot(endpoint, "bread", "survivor", pick_time=0.02)
        await eventually(lambda: _count(online(system, "bread"), 2), within=30)
        ids = await place(system, 60, await skus_of(system, "bread"), lines=2)
        await eventually(lambda: _is(robot_state(system, "victim-1"), "busy"), within=10)
        spawn.kill(victim)
        killed = time.monotonic()
        await eventually(lambda: _is(robot_state(system, "victim-1"), "offline"), within=10)
        noticed = time.monotonic() - killed
        assert noticed <= HEARTBEAT * MISSES + 0.5, f"offline after {noticed:.2f}s"
        assert any("victim-1 is offline; re-dispatching" in r.getMessage() for r in caplog.records)
        final = await wait_final(system, ids, within=60)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)  # nothing picked twice: stock is exact
        survivor = next(r for r in await system.robots() if r.robot_id == "survivor-1")
        assert survivor.state == "idle"
    finally:
        await system.stop()


async def test_a_robot_process_picks_for_customers_between_chunks_of_a_delivery(
    make_config: ConfigFactory, spawn: Spawner
) -> None:
    """Over ZeroMQ as in-process: orders on an aisle complete while its only robot
    shelves 1,000 units (5 s), the delivery completes, and a long pick shows progress."""
    config = make_config(*zmq_overrides())
    system = await start_system(config)
    try:
        spawn.robot(robots_endpoint(system), "bread", "far", pick_time=0.005)
        await eventually(lambda: _count(online(system, "bread"), 1), within=30)
        restock = await system.restock("truck-1", [line("BRD-001", 1000, "1.00")])
        restock_id = restock.order_id
        for _ in range(2):
            ids = await place(system, 1, ["BRD-002"], lines=1)
            assert (await wait_final(system, ids, within=30))[ids[0]].status == "COMPLETED"
            assert (await system.get_restock(restock_id)).status == "PROCESSING"
        done = await wait_final(system, [], restocks=[restock_id], within=60)
        assert done[restock_id].status == "COMPLETED"
        preview = await system.preview("fridge-1", [line("BRD-003", 300)])
        await system.confirm(preview.order_id, "fridge-1")  # 1.5 s of picking

        async def progress() -> dict[str, Any] | None:
            robot = next(r for r in await system.robots() if r.robot_id == "far-1")
            work = robot.working_on
            return work if work is not None and work.done > 0 else None

        work = await eventually(progress, within=30)
        assert (work.order_id, work.op, work.of) == (preview.order_id, "PICK", 300)
        await wait_final(system, [preview.order_id], within=30)
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def test_orders_of_an_aisle_without_robots_wait_for_a_new_one(
    make_config: ConfigFactory, spawn: Spawner
) -> None:
    config = make_config(*zmq_overrides())
    system = await start_system(config)
    try:
        endpoint = robots_endpoint(system)
        first = spawn.robot(endpoint, "dairy", "first", count=2, pick_time=0.05)
        await eventually(lambda: _count(online(system, "dairy"), 2), within=30)
        skus = await skus_of(system, "dairy")
        ids = await place(system, 12, skus, lines=2)
        await eventually(lambda: _is(robot_state(system, "first-1"), "busy"), within=10)
        spawn.kill(first)
        await eventually(lambda: _count(online(system, "dairy"), 0), within=10)
        assert system.robot_hub.fleet.waiting() > 0  # type: ignore[attr-defined]
        waiting = [oid for oid in ids if (await system.get_order(oid)).status == "PROCESSING"]
        assert waiting, "every order finished before the kill"
        # The robots were seen moments ago: a blip, not an unserved aisle. A confirm now
        # is accepted and waits for a robot (up to zmq.aisle_deadline).
        preview = await system.preview("fridge-1", [line(skus[0], 1)])
        assert (await system.confirm(preview.order_id, "fridge-1")).first
        ids.append(preview.order_id)
        spawn.robot(endpoint, "dairy", "second", pick_time=0.0)
        final = await wait_final(system, ids, within=30)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def test_after_the_aisle_deadline_orders_fail_and_release_their_stock(
    make_config: ConfigFactory, spawn: Spawner
) -> None:
    config = make_config(*zmq_overrides(), "zmq.aisle_deadline=1.0")
    system = await start_system(config)
    try:
        endpoint = robots_endpoint(system)
        only = spawn.robot(endpoint, "meat", "only", pick_time=0.1)
        await eventually(lambda: _count(online(system, "meat"), 1), within=30)
        skus = await skus_of(system, "meat")
        ids = await place(system, 8, skus, lines=2)
        await eventually(lambda: _is(robot_state(system, "only-1"), "busy"), within=10)
        spawn.kill(only)
        final = await wait_final(system, ids, within=30)
        failed = [view for view in final.values() if view.status == "FAILED"]
        assert failed, "no order was still waiting when the robot died"
        assert {view.status for view in final.values()} <= {"COMPLETED", "FAILED"}
        assert all("no robot of aisle meat" in (view.reason or "") for view in failed)
        levels = {i.sku: i.reserved for i in await system.levels()}
        assert all(levels[sku] == 0 for sku in skus)  # every reservation released
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
    finally:
        await system.stop()


async def _count(names: Awaitable[list[str]], n: int) -> bool:
    return len(await names) == n


async def _is(state: Awaitable[str | None], expected: str) -> bool:
    return await state == expected


async def test_garbage_on_both_endpoints_is_counted_and_the_store_keeps_serving(
    make_config: ConfigFactory, spawn: Spawner, tmp_path: Path
) -> None:
    config = make_config(*zmq_overrides(metrics="zmq", per_aisle=1))
    system = await start_system(config)
    ctx: zmq.Context[Any] = zmq.Context()
    junk = [ctx.socket(zmq.DEALER) for _ in range(2)]
    csv = tmp_path / "remote.csv"
    try:
        hub, metrics = system.robot_hub, system.supervisor.metrics
        spawn.robot(robots_endpoint(system), "bread", "remote", pick_time=0.0)
        spawn.analytics(metrics_endpoint(system), csv)
        await eventually(lambda: _count(online(system, "bread"), 2), within=30)
        garbage = [
            b"\x00\x01\x02",
            b"[]",
            b'{"kind": "register", "v": 1}',
            b'{"kind": "metric", "v": 1, "seq": 1}',
            b'{"kind": "heartbeat", "v": 99}',
            b"{" * 5000,
        ]
        endpoints = (robots_endpoint(system), metrics_endpoint(system))
        for sock, endpoint in zip(junk, endpoints, strict=True):
            sock.linger = 0
            sock.connect(endpoint)
            for data in garbage:
                sock.send(data)
            sock.send_multipart([b"more", b"parts"])
        expected = len(garbage) + 1
        await eventually(lambda: _true(hub.stats()["bad_frames"] == expected), within=10)
        await eventually(lambda: _true(metrics.stats()["bad_frames"] == expected), within=10)
        bad = {name: stats["bad_frames"] for name, stats in hub.channel_stats().items()}
        assert bad == {"robots": expected, "metrics": expected}
        ids = await place(system, 40, await skus_of(system))
        final = await wait_final(system, ids, within=30)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        remote = next(r for r in await system.robots() if r.robot_id == "remote-1")
        assert remote.tasks_done > 0
        await eventually(lambda: _true(len(csv_lines(csv)) == 40), within=30)
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
    finally:
        for sock in junk:
            sock.close(linger=0)
        ctx.term()
        await system.stop()


async def _true(value: bool) -> bool:
    return value


async def test_robots_and_analytics_find_a_restarted_store_and_stop_cleanly(
    make_config: ConfigFactory, spawn: Spawner, tmp_path: Path
) -> None:
    config = make_config(*zmq_overrides(metrics="zmq"))
    system = await start_system(config)
    csv = tmp_path / "remote.csv"
    try:
        robots_at, metrics_at = robots_endpoint(system), metrics_endpoint(system)
        robot = spawn.robot(robots_at, "party", "party")
        spawn.analytics(metrics_at, csv)
        await eventually(lambda: _count(online(system, "party"), 1), within=30)
        skus = await skus_of(system, "party")
        first = await place(system, 10, skus, lines=2)
        await wait_final(system, first)
    finally:
        await system.stop()
    await asyncio.sleep(HEARTBEAT * MISSES * 2)  # down long enough for clients to notice
    # the same store comes back on the same addresses; nobody restarts the clients
    again = make_config(
        *zmq_overrides(metrics="zmq"),
        f"zmq.robots_endpoint={robots_at}",
        f"zmq.metrics_endpoint={metrics_at}",
    )
    system = await start_system(again)
    try:
        await eventually(lambda: _count(online(system, "party"), 1), within=30)
        second = await place(system, 10, skus, lines=2, seed=2)
        final = await wait_final(system, second, within=30)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        await eventually(lambda: _true(len(csv_lines(csv)) == 20), within=30)
        assert sorted(csv_order_ids(csv)) == sorted(first + second)
        robot.terminate()  # SIGTERM: says bye, so the store knows at once
        assert await asyncio.to_thread(robot.wait, 10) == 0
        await eventually(lambda: _is(robot_state(system, "party-1"), "offline"), within=5)
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(again.data_path)
    finally:
        await system.stop()


async def test_a_robot_for_an_aisle_the_store_does_not_have_is_refused_in_one_line(
    make_config: ConfigFactory, spawn: Spawner
) -> None:
    system = await start_system(make_config(*zmq_overrides()))
    try:
        robot = spawn.robot(robots_endpoint(system), "bakery", "oven", count=2)
        loop = asyncio.get_running_loop()
        code = await asyncio.wait_for(loop.run_in_executor(None, robot.wait), 30)
        assert code == 2
        said = [
            line for line in spawn.log_of(robot).splitlines() if line.startswith("autogrocery:")
        ]
        assert said == [
            "autogrocery: robot: the store has no aisle 'bakery'; its aisles: "
            "bread, dairy, meat, party, produce"
        ]
        assert spawn.log_of(robot).count("no aisle 'bakery'") == 1  # said once, not logged too
        assert [r for r in await system.robots() if r.aisle == "bakery"] == []
    finally:
        await system.stop()

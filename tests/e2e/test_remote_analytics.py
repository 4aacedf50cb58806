"""A remote `autogrocery analytics` process over ZeroMQ: SIGKILLed and restarted in the
middle of a run, its CSV still ends with exactly one line per finished order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Iterator
from pathlib import Path

import pytest

from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, csv_order_ids, line, wait_final
from tests.remote import Spawner, metrics_endpoint, zmq_overrides
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    with Spawner(tmp_path) as spawner:
        yield spawner


def csv_seqs(path: Path) -> list[int]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [int(line.split(",", 1)[0]) for line in lines if line.split(",", 1)[0].isdigit()]


async def finished(system: System) -> int:
    done, _ = await system.list_orders(status="COMPLETED", limit=500)
    return len(done)


async def test_remote_analytics_killed_and_restarted_mid_run_has_one_line_per_order(
    make_config: ConfigFactory, spawn: Spawner, tmp_path: Path
) -> None:
    config = make_config(
        *zmq_overrides(robots="memory", metrics="zmq", per_aisle=1), "robots.pick_time=0.01"
    )
    system = await start_system(config)
    csv = tmp_path / "remote" / "latency.csv"
    try:
        endpoint = metrics_endpoint(system)
        first = spawn.analytics(endpoint, csv)
        stats = system.supervisor.metrics.stats
        await eventually(lambda: _true(stats()["subscribers"] == 1), within=30)
        rng = random.Random(4)
        skus = [item.sku for item in await system.levels()]
        gate = asyncio.Semaphore(16)

        async def order(n: int) -> str:
            async with gate:
                items = [line(s, rng.randint(1, 2)) for s in rng.sample(skus, 3)]
                preview = await system.preview(f"fridge-{n % 5}", items)
                await system.confirm(preview.order_id, f"fridge-{n % 5}")
                return str(preview.order_id)

        run = asyncio.gather(*(order(n) for n in range(300)))
        await eventually(lambda: _true(len(csv_seqs(csv)) >= 30), within=30)
        spawn.kill(first)  # SIGKILL, mid-write as likely as not
        down_at = await finished(system)
        await eventually(lambda: _more(finished(system), down_at + 40), within=30)
        assert len(csv_seqs(csv)) < await finished(system)  # it really missed some
        spawn.analytics(endpoint, csv)
        ids = await run
        final = await wait_final(system, ids, within=60)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        await eventually(lambda: _true(len(csv_seqs(csv)) >= 300), within=30)
        await asyncio.sleep(3 * 0.2)  # a few heartbeats: nothing more may arrive
        seqs = csv_seqs(csv)
        assert seqs == sorted(set(seqs)), "duplicate or out-of-order lines"
        assert sorted(csv_order_ids(csv)) == sorted(ids)
        assert system.supervisor.metrics.stats()["replayed"] > 0
        await eventually(lambda: analytics_settled(system), within=10)
        check_invariants(config.data_path)
        assert sorted(csv_order_ids(config.csv_file)) == sorted(ids)  # the store's own CSV
    finally:
        await system.stop()


async def _true(value: bool) -> bool:
    return value


async def _more(count: Awaitable[int], at_least: int) -> bool:
    return await count >= at_least

"""A full disk is an expected condition, not an actor death (issue 10, item 1).

The store's connection gets a SQLite size limit (`PRAGMA max_page_count`): a full disk
as SQLite sees it ("database or disk is full"). Requests are refused with a retryable
503, nothing is half-applied, /readyz-style problems say why, and once space is freed
the work in flight resumes by itself, without any actor restarting.
"""

from __future__ import annotations

import pytest

from autogrocery.domain.errors import Unavailable
from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)

UNLIMITED = 1_073_741_823


def limit_pages(system: System, pages: int) -> None:
    system.store_connection().execute(f"PRAGMA max_page_count = {pages}")


def page_count(system: System) -> int:
    return int(system.store_connection().execute("PRAGMA page_count").fetchone()[0])


async def test_a_full_disk_refuses_with_503_changes_nothing_and_recovers_by_itself(
    make_config: ConfigFactory,
) -> None:
    config = make_config("robots.per_aisle=1", "robots.pick_time=0.02")
    system = await start_system(config)
    try:
        skus = [item.sku for item in await system.levels()]
        in_flight = []
        for n in range(10):
            order = await system.preview("fridge-1", [line(skus[n], 1)])
            await system.confirm(order.order_id, "fridge-1")
            in_flight.append(order.order_id)
        limit_pages(system, page_count(system))  # the disk is full now
        refused: Unavailable | None = None
        for n in range(500):
            # Either step may be the first that needs a new page: the orders in flight
            # write (and free pages) meanwhile.
            try:
                order = await system.preview("fridge-2", [line(skus[n % 20], 1)])
                await system.confirm(order.order_id, "fridge-2")
            except Unavailable as exc:
                refused = exc
                break
            in_flight.append(order.order_id)
        assert refused is not None, "the full disk was never hit"
        assert refused.retry_after > 0
        assert "full" in str(refused)
        assert "writes" in system.problems()
        assert system.alive() is None, "a full disk is no reason to restart the process"
        # Nothing half-applied: what stock holds is exactly what stored orders hold.
        check_invariants(config.data_path, settled=False)
        limit_pages(system, UNLIMITED)  # space is freed
        final = await wait_final(system, in_flight, within=60)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        await eventually(lambda: analytics_settled(system), within=30)
        await eventually(lambda: _no_problems(system), within=10)  # the next probe finds room
        assert system.supervisor.restarts == 0
        assert all(system.health().values())
        order = await system.preview("fridge-2", [line(skus[0], 1)])
        assert order.status == "PREVIEWED"
    finally:
        await system.stop()
    check_invariants(config.data_path)


async def _no_problems(system: System) -> bool:
    return system.problems() == {}

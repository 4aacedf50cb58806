"""A robot process killed in a ZeroMQ setup shows as offline on the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.tui.client import ApiClient
from tests.remote import HEARTBEAT, MISSES, Spawner, robots_endpoint, zmq_overrides
from tests.tui.conftest import StoreFactory, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    with Spawner(tmp_path) as spawner:
        yield spawner


async def test_a_killed_robot_process_shows_offline(
    make_store: StoreFactory, spawn: Spawner
) -> None:
    store = await make_store(*zmq_overrides())
    endpoint = robots_endpoint(store.live)
    victim = spawn.robot(endpoint, "bread", "victim")
    spawn.robot(endpoint, "bread", "survivor")
    async with store.client() as client:
        assert isinstance(client, ApiClient)
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            await connected(pilot, app)
            await pilot.press("3")
            table = app.query_one("#robots-table")
            summary = app.query_one("#fleet-summary")

            def state(robot_id: str) -> str:
                return (shown(table, robot_id) or [""] * 4)[3]  # type: ignore[arg-type]

            await until(
                pilot, lambda: state("victim-1") == state("survivor-1") == "idle", within=30
            )
            assert "all 2 robots online" in str(summary.render())
            spawn.kill(victim)
            await until(
                pilot, lambda: state("victim-1") == "✖ OFFLINE", within=HEARTBEAT * MISSES + 5
            )
            assert state("survivor-1") == "idle"
            assert "1 OFFLINE: victim-1" in str(summary.render())
            assert summary.has_class("alarm")
            assert "Robots ✖1" in str(app.query_one("#tabs").get_tab("robots").label)  # type: ignore[attr-defined]
            assert "1/2 robots online" in str(app.query_one("#status").render())

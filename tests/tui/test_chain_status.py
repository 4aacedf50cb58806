"""A store in a chain: the dashboard's status line says whether its head office is
reachable and how many events wait for it (a store in no chain says nothing of it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from autogrocery.tui.app import DashboardApp
from tests.chain.stores import linked, write_join
from tests.helpers import line
from tests.tui.conftest import StoreFactory, connected, dashboard, until

pytestmark = pytest.mark.timeout(60)


def status(app: DashboardApp) -> str:
    return str(app.main.query_one("#status", Static).render())


async def test_the_status_line_says_the_head_office_is_unreachable_and_what_waits(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    join = write_join(tmp_path / "north.join", "north")  # its hub is never there
    store = await make_store("robots.per_aisle=1", f"chain.join={join}")
    async with linked(store.config, store.live), store.client() as client:
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            await connected(pilot, app)
            await until(pilot, lambda: "head office unreachable" in status(app))
            preview = await store.live.preview("fridge-1", [line("BRD-001", 1)])
            await store.live.confirm(preview.order_id, "fridge-1")
            await until(pilot, lambda: "events wait" in status(app))


async def test_a_store_in_no_chain_says_nothing_of_a_head_office(
    make_store: StoreFactory,
) -> None:
    store = await make_store("robots.per_aisle=1")
    async with store.client() as client:
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            await connected(pilot, app)
            await until(pilot, lambda: app._polls >= 3)
            assert "head office" not in status(app)
            assert app.client is not None
            assert client.sent["GET /api/ops/chain"] == 1  # asked once, then never again

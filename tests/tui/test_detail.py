"""An open order or restock window follows the live events: a restock that completes
while its window is open reads COMPLETED there, as in the table behind it; an order
confirmed while its window is open shows each step. A real store whose robots are
`autogrocery robot` processes: until one joins, a restock waits in PROCESSING."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from autogrocery.tui.app import DashboardApp
from autogrocery.tui.client import ApiClient
from autogrocery.tui.screens.order import OrderScreen
from autogrocery.tui.widgets.table import LiveTable
from tests.helpers import line
from tests.remote import Spawner, robots_endpoint, zmq_overrides
from tests.tui.conftest import StoreFactory, connected, dashboard, shown, text, until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    with Spawner(tmp_path) as spawner:
        yield spawner


def status(app: DashboardApp) -> str:
    """What the open window's summary says."""
    return str(app.screen.query_one("#order-summary", Static).render())


async def open_row(pilot: object, app: DashboardApp, key: str) -> OrderScreen:
    table = app.main.query_one("#orders-table", LiveTable)
    await until(pilot, lambda: key in table.row_keys)  # type: ignore[arg-type]
    table.focus()
    table.move_cursor(row=table.row_keys.index(key))
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, OrderScreen))  # type: ignore[arg-type]
    assert isinstance(app.screen, OrderScreen)
    return app.screen


async def test_open_detail_windows_follow_the_event_feed(
    make_store: StoreFactory, spawn: Spawner
) -> None:
    store = await make_store(*zmq_overrides())  # no robot yet: restocks wait for one
    async with store.client() as client:
        assert isinstance(client, ApiClient)
        receipt = await client.submit_restock(
            [{"sku": "BRD-001", "quantity": 5, "unit_cost": "1.00"}]
        )
        restock = receipt.restock_id
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            await connected(pilot, app)
            window = await open_row(pilot, app, restock)
            await until(pilot, lambda: "PROCESSING" in status(app))

            spawn.robot(robots_endpoint(store.live), "bread", "late")  # it joins, it shelves
            table = app.main.query_one("#orders-table", LiveTable)
            await until(
                pilot, lambda: (shown(table, restock) or [""] * 3)[2] == "COMPLETED", within=30
            )
            await until(pilot, lambda: "COMPLETED" in status(app))
            assert app.screen is window  # the same window, not opened again
            history = window.query_one("#order-history", LiveTable)
            steps = [text(history.cells(key)[0]) for key in history.row_keys]  # type: ignore[index]
            assert steps == ["PROCESSING", "COMPLETED"]
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, OrderScreen))

            # an order previewed, opened, then confirmed: its window shows it through
            preview = await store.live.preview("fridge-1", [line("BRD-001", 1)])
            order = preview.order_id
            window = await open_row(pilot, app, order)
            await until(pilot, lambda: "PREVIEWED" in status(app))
            await store.live.confirm(order, "fridge-1")
            await until(pilot, lambda: "COMPLETED" in status(app), within=30)
            history = window.query_one("#order-history", LiveTable)
            await until(pilot, lambda: len(history.row_keys) == 3)
            steps = [text(history.cells(key)[0]) for key in history.row_keys]  # type: ignore[index]
            assert steps == ["PREVIEWED", "PROCESSING", "COMPLETED"]


async def test_an_order_is_cancelled_from_its_window_while_robots_pick_it(
    make_store: StoreFactory,
) -> None:
    store = await make_store("robots.per_aisle=1", "robots.pick_time=0.02")
    async with store.client() as client:
        assert isinstance(client, ApiClient)
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            await connected(pilot, app)
            preview = await store.live.preview("fridge-1", [line("MEA-001", 150)])
            order = preview.order_id
            await store.live.confirm(order, "fridge-1")  # 3 s of picking
            window = await open_row(pilot, app, order)
            await until(pilot, lambda: "PROCESSING" in status(app))
            await pilot.press("x")
            await until(pilot, lambda: "CANCELLED" in status(app))
            assert app.screen is window
            assert (await store.live.get_order(order)).status == "CANCELLED"
            await pilot.press("x")  # a cancelled order offers no cancel
            assert not window.check_action("cancel_order", ())
            error = str(window.query_one("#form-error", Static).render())
            assert "not cancelled" not in error

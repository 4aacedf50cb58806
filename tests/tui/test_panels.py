"""Each panel shows what the store holds: a real store and API on 127.0.0.1, the
dashboard driven headless by Textual's pilot."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from textual.widgets import Select, Static

from autogrocery.api import views
from autogrocery.domain.models import OrderKind
from autogrocery.tui.screens.order import OrderScreen
from autogrocery.tui.widgets.alerts import AlertsPanel
from autogrocery.tui.widgets.analytics import AnalyticsPanel
from autogrocery.tui.widgets.inventory import InventoryPanel
from autogrocery.tui.widgets.orders import OrdersPanel
from autogrocery.tui.widgets.robots import RobotsPanel
from autogrocery.tui.widgets.table import LiveTable
from tests.helpers import as_json, inventory_json, line, wait_final
from tests.tui.conftest import Store, connected, dashboard, shown, text, until

pytestmark = pytest.mark.timeout(60)


async def place(store: Store, baskets: list[list[tuple[str, int]]]) -> list[str]:
    ids = []
    for number, basket in enumerate(baskets):
        items = [line(sku, quantity) for sku, quantity in basket]
        preview = await store.live.preview(f"fridge-{number}", items)
        await store.live.confirm(preview.order_id, f"fridge-{number}")
        ids.append(preview.order_id)
    await wait_final(store.live, ids)
    return ids


async def test_orders_panel_shows_the_stores_orders_and_opens_one(store: Store, client) -> None:
    ids = await place(store, [[("BRD-001", 2), ("DAI-001", 1)], [("MEA-001", 1)]])
    pending = await store.live.preview("fridge-9", [line("PRO-001", 3)])
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        table = app.query_one("#orders-table", LiveTable)
        await until(pilot, lambda: len(table.row_keys) == 3)
        for order_id in [*ids, pending.order_id]:
            view = as_json(views.order(await store.live.get_order(order_id)))
            row = shown(table, order_id)
            assert row is not None
            assert row[0] == order_id
            assert row[2] == view["status"]
            assert row[4] == view["total"]
        assert table.row_keys[0] == pending.order_id  # newest first
        assert "2\u00d7BRD-001" in (shown(table, ids[0]) or [])[3]

        # a new order arrives live, without a reload
        later = await place(store, [[("PAR-001", 1)]])
        await until(pilot, lambda: (shown(table, later[0]) or [""] * 3)[2] == "COMPLETED")

        # the status filter
        app.query_one("#orders-panel", OrdersPanel).query_one(
            "#status-filter", Select
        ).value = "PREVIEWED"
        await until(pilot, lambda: table.row_keys == [pending.order_id])
        await pilot.press("f")  # the next status: PROCESSING (none)
        await until(pilot, lambda: table.row_keys == [])
        app.query_one("#orders-panel", OrdersPanel).query_one(
            "#status-filter", Select
        ).value = "ALL"
        await until(pilot, lambda: len(table.row_keys) == 4)

        # open one: its lines and its history, from the store
        table.focus()
        table.move_cursor(row=table.row_keys.index(ids[0]))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen))
        lines = app.screen.query_one("#order-lines", LiveTable)
        history = app.screen.query_one("#order-history", LiveTable)
        await until(pilot, lambda: len(history.row_keys) > 0)
        assert sorted(lines.row_keys) == ["BRD-001", "DAI-001"]
        assert (shown(lines, "BRD-001") or [])[3] == "2"
        steps = [text(history.cells(key)[0]) for key in history.row_keys]  # type: ignore[index]
        expected = [status for status, _ in await store.live.order_history(ids[0])]
        assert steps == expected == ["PREVIEWED", "PROCESSING", "COMPLETED"]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OrderScreen))


async def test_inventory_panel_shows_stock_by_aisle_with_low_stock_marked(
    store: Store, client
) -> None:
    await store.live.adjust_stock("BRD-002", -300, "WASTE", "mould", "test")
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        table = app.query_one("#inventory-table", LiveTable)
        inventory = await inventory_json(store.live)
        await until(pilot, lambda: len(table.row_keys) == len(inventory))
        for item in inventory:
            row = shown(table, item["sku"])
            assert row is not None
            assert row[3:7] == [
                str(item["on_hand"]),
                str(item["reserved"]),
                str(item["available"]),
                str(item["min_level"]),
            ], item["sku"]
            assert row[7] == item["price"]
        low = table.cells("BRD-002")
        assert low is not None
        assert "red" in str(low[5].style)
        assert text(low[0]).startswith("▼")
        assert "1 below min level" in str(app.query_one("#inventory-count").render())

        # live: stock taken by an order shows without a reload; the aisle filter
        await place(store, [[("BRD-001", 5)]])
        on_hand = (await store.live.product("BRD-001")).on_hand
        await until(pilot, lambda: (shown(table, "BRD-001") or [""] * 4)[3] == str(on_hand))
        panel = app.query_one("#inventory-panel", InventoryPanel)
        panel.query_one(Select).value = "dairy"
        await until(
            pilot, lambda: table.row_keys and all(k.startswith("DAI") for k in table.row_keys)
        )
        assert "DAI-001" in str(app.query_one("#stock-title").render())


async def test_robots_panel_shows_the_fleet(store: Store, client) -> None:
    await place(store, [[("BRD-001", 1), ("MEA-001", 1)]])
    app = dashboard(client, wall_clock=lambda: 0.0)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("3")
        table = app.query_one("#robots-table", LiveTable)
        robots = await store.live.robots()
        await until(pilot, lambda: len(table.row_keys) == len(robots) == 5)
        for robot in await store.live.robots():
            row = shown(table, robot.robot_id)
            assert row is not None
            assert row[1:4] == [robot.aisle, robot.host, robot.state]
            assert row[5:] == [str(robot.tasks_done), str(robot.tasks_failed)]
        assert "all 5 robots online" in str(app.query_one("#fleet-summary").render())
        assert isinstance(app.query_one("#robots-panel"), RobotsPanel)


async def test_analytics_panel_shows_counts_and_charts(store: Store, client) -> None:
    app = dashboard(client, sample_interval=0.1)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("4")
        await place(store, [[("BRD-001", 1)], [("DAI-001", 2)], [("MEA-001", 1)]])
        summary = app.query_one("#analytics-summary", Static)
        await until(pilot, lambda: "3 completed" in str(summary.render()))
        analytics = await store.live.analytics()
        assert analytics["customer"]["completed"] == 3
        await until(pilot, lambda: max(app.model.series.p50, default=0) > 0)
        await until(pilot, lambda: max(app.model.series.completed_per_second, default=0) > 0)
        label = str(app.query_one("#chart-p99").render())
        assert "latency p99" in label
        assert isinstance(app.query_one("#analytics-panel"), AnalyticsPanel)


async def test_alerts_panel_shows_low_stock_alerts_as_they_come_and_go(
    store: Store, client
) -> None:
    await store.live.adjust_stock("DAI-003", -280, "WASTE", None, "test")
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("5")
        table = app.query_one("#alerts-table", LiveTable)
        alerts = await store.live.alerts()
        assert [a.level.sku for a in alerts] == ["DAI-003"]
        await until(pilot, lambda: table.row_keys == ["DAI-003"])
        assert (shown(table, "DAI-003") or [])[0] == "low stock"
        assert (shown(table, "DAI-003") or [])[4] == str(alerts[0].level.available)
        await store.live.adjust_stock("PAR-003", -400, "WASTE", None, "test")
        await until(pilot, lambda: sorted(table.row_keys) == ["DAI-003", "PAR-003"])
        assert "Alerts (2)" in str(app.query_one("#tabs").get_tab("alerts").label)  # type: ignore[attr-defined]
        restock = await store.live.restock("truck", [line("DAI-003", 500, "1.00")])
        await wait_final(store.live, [], restocks=[restock.order_id])
        await until(pilot, lambda: table.row_keys == ["PAR-003"])
        assert isinstance(app.query_one("#alerts-panel"), AlertsPanel)
        restocks, _ = await store.live.list_orders(kind=OrderKind.RESTOCK)
        assert len(restocks) == 1


async def test_one_alert_count_in_the_status_line_the_tab_and_the_alerts_panel(
    store: Store, client
) -> None:
    """Low stock and lots near their best-before date are alerts alike: the status line,
    the Alerts tab and the Alerts panel say the same number, and the panel lists them."""
    await store.live.adjust_stock("DAI-003", -280, "WASTE", None, "test")  # low stock
    soon = str(store.live.today() + timedelta(days=1))
    await deliver(store, client, "DAI-001", soon)  # a lot due tomorrow
    alerts = await store.live.alerts()
    assert sorted(a.kind for a in alerts) == ["expiring", "low"]
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("5")
        table = app.query_one("#alerts-table", LiveTable)
        await until(pilot, lambda: len(table.row_keys) == 2)
        await until(pilot, lambda: counts(app) == {"status": 2, "tab": 2, "panel": 2})
        lot = next(a.lot.lot_id for a in alerts if a.lot is not None)
        assert sorted(table.row_keys) == sorted(["DAI-003", lot])
        assert (shown(table, lot) or [])[:2] == [f"expiry {soon[5:]}", "DAI-001"]
        assert "⚠" not in str(app.query_one("#tabs").get_tab("reports").label)  # type: ignore[attr-defined]

        await deliver(store, client, "MEA-001", soon)  # live: one more, from its event
        await until(pilot, lambda: counts(app) == {"status": 3, "tab": 3, "panel": 3})
        assert len(table.row_keys) == 3


async def deliver(store: Store, client, sku: str, expiry: str) -> None:
    receipt = await client.submit_restock(
        [{"sku": sku, "quantity": 5, "unit_cost": "1.00", "expiry_date": expiry}]
    )
    await wait_final(store.live, [], restocks=[receipt.restock_id])


def counts(app) -> dict[str, int | None]:
    """The alert count as the status line, the Alerts tab and the panel say it."""
    status = str(app.query_one("#status", Static).render())
    tab = str(app.query_one("#tabs").get_tab("alerts").label)
    panel = str(app.query_one("#alerts-summary", Static).render())
    found = {
        "status": re.search(r"(\d+) (?:low-stock )?alerts?\b", status),
        "tab": re.search(r"Alerts \((\d+)\)", tab),
        "panel": re.search(r"(\d+) (?:open alert|SKU)", panel),
    }
    return {where: int(match[1]) if match else None for where, match in found.items()}

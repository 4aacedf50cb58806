"""The reports panel against a real store: dated stock delivered by a truck, an order and
a WASTE adjustment, all through the HTTP API, and the panel showing the figures the
store computes (expiring lots with their days left, waste and its value at cost, what
to reorder, usage); a live change shown without a reload; the store's errors shown in
the panel. And the rule that decides when the panel fetches, on a fixed clock."""

from __future__ import annotations

import re
from datetime import date, timedelta
from math import ceil
from typing import Any

import msgspec
import pytest
from textual.widgets import Label, Select, TabbedContent

from autogrocery.client import Credentials
from autogrocery.tui.client import ApiClient, ManifestLine
from autogrocery.tui.model import REPORTS_EVERY, REPORTS_SOON, StoreModel
from autogrocery.tui.reports import load_reports
from autogrocery.tui.widgets.table import LiveTable
from tests.helpers import wait_final
from tests.tui import fixed, shapes
from tests.tui.conftest import Store, StoreFactory, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(90)

SKU = "DAI-900"
MILK = {
    "sku": SKU,
    "name": "Test milk",
    "aisle": "dairy",
    "unit": "l",
    "price": "1.99",
    "unit_cost": "1.00",
    "min_level": 20,
    "on_hand": 10,  # one undated lot at 1.00
}


async def deliver(store: Store, client: ApiClient, lines: list[ManifestLine]) -> None:
    receipt = await client.submit_restock(lines)  # as a truck
    await wait_final(store.live, [], restocks=[receipt.restock_id])


async def buy(store: Store, client: ApiClient, quantity: int) -> None:
    """An order from a fridge (a device login made for it), through the API."""
    device = Credentials("fridge-reports", "fridge-password-1")
    await client.call(
        "POST",
        "/api/ops/accounts",
        {"username": device.username, "password": device.password, "role": "device"},
    )
    async with ApiClient(client.url, device) as fridge:
        items = [{"sku": SKU, "quantity": quantity}]
        preview = await fridge.call("POST", "/api/orders/preview", {"items": items})
        await fridge.call("POST", f"/api/orders/{preview['order_id']}/confirm")
    done = await wait_final(store.live, [preview["order_id"]])
    assert done[preview["order_id"]].status == "COMPLETED"


def title(app: Any, key: str) -> str:
    return str(app.main.query_one(f"#{key}-title", Label).render())


async def test_the_reports_panel_shows_what_the_store_counts(
    store: Store, client: ApiClient
) -> None:
    await client.call("POST", "/api/ops/products", MILK)
    today: date = store.live.today()
    soon = today + timedelta(days=2)
    await deliver(
        store, client, [{"sku": SKU, "quantity": 8, "unit_cost": "1.25", "expiry_date": str(soon)}]
    )
    await buy(store, client, 2)  # first expired, first out: 2 from the dated lot, 6 left
    await client.adjust_stock(SKU, -3, "WASTE", "dented")  # 3 more from it, at 1.25
    gone = today - timedelta(days=1)  # a lot delivered past its date: expired on arrival
    await deliver(
        store, client, [{"sku": SKU, "quantity": 2, "unit_cost": "1.50", "expiry_date": str(gone)}]
    )
    lots = [lot for lot in await client.expiring(3) if lot.sku == SKU]
    assert [(lot.days_left, lot.expired, lot.on_hand) for lot in lots] == [
        (-1, True, 2),
        (2, False, 3),
    ]

    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("6")
        expiring = app.main.query_one("#expiring-table", LiveTable)
        waste = app.main.query_one("#waste-table", LiveTable)
        reorder = app.main.query_one("#reorder-table", LiveTable)
        usage = app.main.query_one("#usage-table", LiveTable)
        await until(pilot, lambda: shown(waste, SKU))

        # expiring: soonest first, the expired lot marked; days left as the store says
        rows = [shown(expiring, key) for key in expiring.row_keys]
        mine = [row for row in rows if row and row[0] == SKU]
        assert [row[1:5] for row in mine] == [
            ["Test milk", str(gone), "expired", "2"],
            ["Test milk", str(soon), "2 days", "3"],
        ]
        assert "bold red" in str(expiring.cells(lots[0].lot_id)[0].style)  # type: ignore[index, union-attr]
        assert expiring.row_keys.index(lots[0].lot_id) < expiring.row_keys.index(lots[1].lot_id)
        assert "1 expired" in title(app, "expiring")

        # waste over the last 7 days: 3 at 1.25
        assert shown(waste, SKU) == [SKU, "Test milk", "3", "3.75"]
        assert "3.75 at cost" in title(app, "waste")
        assert f"{today - timedelta(days=6)} … {today}" in title(app, "waste")

        # reorder: 13 available (the expired lot is not), min level 20, 2 used over the
        # store's age (seconds: younger than the 7 days of the report); enough for min
        # level + two lead times (2 days) of use at that rate
        assert app.model.reports is not None
        age = app.model.reports.reorder.span_days
        assert age < 1
        row = shown(reorder, SKU)
        assert row is not None
        assert (row[1], row[2], row[6]) == ("Test milk", "13", str(20 + ceil(2 / age * 2 * 2) - 13))
        assert "min use, 2 d lead" in title(app, "reorder")

        # usage: 2 taken today, the last of the 7 days; per day over the store's age
        row = shown(usage, SKU)
        assert row is not None
        assert row[:4] == [SKU, "Test milk", "2", f"{2 / app.model.reports.usage.span_days:.1f}"]
        assert row[4][:-1] == " " * 6  # only today's bar
        assert row[4][-1] != " "
        assert re.search(r"Usage: .* taken in \d+ min, ", title(app, "usage"))

        # the two lots' expiry alerts are alerts like the SKU's low-stock one: counted
        # once, on the Alerts tab (the Reports tab has no count of its own)
        tabs = app.main.query_one("#tabs", TabbedContent)
        await until(pilot, lambda: "Alerts (3)" in str(tabs.get_tab("alerts").label))
        assert str(tabs.get_tab("reports").label) == "6 Reports"
        kinds = sorted((a.kind, a.sku) for a in app.model.alerts.values())
        assert kinds == [("expiring", SKU), ("expiring", SKU), ("low", SKU)]

        # live: another write-off (from the expired lot first) shows without a reload,
        # soon after its event and long before the half-minute refresh
        await client.adjust_stock(SKU, -1, "WASTE", "expired")
        await until(
            pilot,
            lambda: shown(waste, SKU) == [SKU, "Test milk", "4", "5.25"],
            within=REPORTS_EVERY / 2,
        )
        assert "5.25 at cost" in title(app, "waste")

        # the waste period: the last 30 store days
        app.main.query_one("#waste-period", Select).value = 30
        await until(pilot, lambda: f"{today - timedelta(days=29)} … {today}" in title(app, "waste"))
        assert shown(waste, SKU) == [SKU, "Test milk", "4", "5.25"]


async def test_the_reports_panel_shows_the_stores_errors(make_store: StoreFactory) -> None:
    store = await make_store("robots.per_aisle=1", "robots.restart_delay=30")
    async with store.client() as client:
        app = dashboard(client)
        async with app.run_test(size=(120, 36)) as pilot:
            await connected(pilot, app)
            await pilot.press("6")
            note = app.main.query_one("#reports-note", Label)
            await until(pilot, lambda: "the store's day" in str(note.render()))
            figures = app.model.reports

            store.live.supervisor.refs["stock"].tell("poison")  # the core is down for 30 s
            app.main.query_one("#waste-period", Select).value = 30  # fetches at once
            await until(pilot, lambda: "⚠ 503" in str(note.render()))
            assert app.model.reports is figures  # the last figures stay, said to be old
            assert "(figures of " in str(note.render())

            await store.stop()
            app.main.query_one("#waste-period", Select).value = 7
            await until(pilot, lambda: "⚠ cannot connect" in str(note.render()))
            assert app.is_running


def test_the_reports_are_fetched_soon_after_a_change_and_now_and_then_otherwise() -> None:
    now = [1000.0]
    model = StoreModel(clock=lambda: now[0])
    model.load(fixed.snapshot())
    assert model.reports_due()  # never fetched
    model.reports_asked()
    model.set_reports(fixed.reports())
    assert not model.reports_due()
    now[0] += REPORTS_SOON
    assert not model.reports_due()  # nothing changed: it waits for the slow refresh
    assert model.reports_due(shown=True)  # but the panel just came into view
    for n in range(1000):  # a burst of stock events: still one fetch, after REPORTS_SOON
        model.apply(shapes.event("stock.changed", fixed.product("BRD-001", available=n)))
    assert model.reports_due()
    model.reports_asked()
    now[0] += REPORTS_SOON - 0.1
    assert not model.reports_due()
    now[0] += REPORTS_EVERY
    assert model.reports_due()  # the slow refresh
    model.reports_asked()
    model.reports_failed("503 Service Unavailable: stock is restarting")
    assert "reports" in model.dirty
    now[0] += REPORTS_SOON
    assert model.reports_due()  # a failure is retried soon
    model.reports_asked()
    model.set_reports(fixed.reports())
    assert model.reports_error is None
    model.apply(
        shapes.event(
            "alert.raised", shapes.alert({"kind": "expiring", "sku": "DAI-001", "lot_id": "l1"})
        )
    )
    now[0] += REPORTS_SOON
    assert model.reports_due()  # an expiry alert changes what the panel shows


def test_expiry_and_low_stock_alerts_are_each_kept_under_its_own_key() -> None:
    model = StoreModel()
    model.load(fixed.snapshot())
    low = set(model.low_stock_skus())
    assert low
    lots = {lot[2] for lot in fixed.LOTS}
    assert set(model.alerts) == low | lots
    assert model.alert_count == len(low) + len(lots)
    # a low-stock alert and an expiry alert for the same SKU: both kept, each its own
    sku = next(iter(low))
    expiry = shapes.alert(
        {"kind": "expiring", "sku": sku, "lot_id": "lot_x", "available": 1, "min_level": 0}
    )
    model.apply(shapes.event("alert.raised", expiry, at="t"))
    assert set(model.alerts) == low | lots | {"lot_x"}
    assert model.alerts[sku].kind == "low"
    model.apply(shapes.event("alert.cleared", expiry, at="t"))
    assert set(model.alerts) == low | lots  # clearing the lot's alert leaves the SKU's
    model.set_alerts([msgspec.structs.replace(expiry, lot_id="lot_y")])  # the periodic re-read
    assert (list(model.alerts), model.low_stock_skus()) == (["lot_y"], [])


async def test_waste_and_usage_span_whole_store_days(store: Store, client: ApiClient) -> None:
    """`load_reports` asks for waste up to the store's today, as the usage report says."""
    reports = await load_reports(client, 30)
    today = store.live.today()
    assert reports.usage.to == reports.waste.to == str(today)
    assert reports.waste.from_ == str(today - timedelta(days=29))
    assert reports.usage.from_ == str(today - timedelta(days=6))
    assert client.sent["GET /api/ops/reports/waste"] == 1

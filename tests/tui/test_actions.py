"""The operator's forms: validated before anything is sent; API errors shown verbatim
in place; a restock from the form completes and the inventory panel shows it."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select, TextArea

from autogrocery.domain.models import OrderKind
from autogrocery.tui.app import DashboardApp
from autogrocery.tui.client import ApiClient
from autogrocery.tui.screens.actions import AdjustScreen, ProductScreen, RestockScreen
from autogrocery.tui.screens.form import FormScreen
from autogrocery.tui.widgets.table import LiveTable
from tests.api.conftest import TRUCK_PASSWORD
from tests.helpers import wait_final
from tests.tui.conftest import Store, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(60)


async def open_form(pilot, app: DashboardApp, key: str, kind: type[FormScreen]) -> FormScreen:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, kind))
    return app.screen  # type: ignore[return-value]


async def restocks(store: Store) -> list[dict[str, object]]:
    found, _ = await store.live.list_orders(kind=OrderKind.RESTOCK, limit=100)
    return found


async def test_a_restock_from_the_form_completes_and_shows_in_the_inventory(
    store: Store, client: ApiClient
) -> None:
    before = {i["sku"]: i for i in await store.live.inventory()}
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        form = await open_form(pilot, app, "r", RestockScreen)
        form.query_one("#manifest", TextArea).text = "BRD-001 40 3.10\nmea-002 12"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, RestockScreen))
        [restock] = await restocks(store)
        final = await wait_final(store.live, [], restocks=[str(restock["restock_id"])])
        assert final[str(restock["restock_id"])]["status"] == "COMPLETED"
        assert {(i["sku"], i["quantity"]) for i in restock["items"]} == {  # type: ignore[attr-defined]
            ("BRD-001", 40),
            ("MEA-002", 12),
        }
        # the default unit cost is the product's current one
        line = next(i for i in restock["items"] if i["sku"] == "MEA-002")  # type: ignore[attr-defined]
        assert line["unit_cost"] == before["MEA-002"]["unit_cost"]
        table = app.query_one("#inventory-table", LiveTable)
        for sku, added in (("BRD-001", 40), ("MEA-002", 12)):
            expected = str(before[sku]["on_hand"] + added)
            await until(
                pilot,
                lambda sku=sku, expected=expected: (shown(table, sku) or [""] * 4)[3] == expected,
            )
        # made by a truck account the dashboard created through POST /api/ops/accounts
        assert client.truck_name is not None
        assert client.truck_name.startswith("dashboard-truck-")
        assert client.sent["POST /api/ops/accounts"] == 1


async def test_restock_with_the_bootstrap_truck(store: Store) -> None:
    from autogrocery.tui.client import Credentials
    from tests.api.conftest import ADMIN_PASSWORD

    async with ApiClient(
        store.url, Credentials("admin", ADMIN_PASSWORD), Credentials("truck-1", TRUCK_PASSWORD)
    ) as client:
        receipt = await client.submit_restock(
            [{"sku": "PAR-001", "quantity": 5, "unit_cost": "2.00"}]
        )
        assert receipt["status"] == "PROCESSING"
        assert client.sent["POST /api/ops/accounts"] == 0


@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        ("NOPE-999 10", "line 1: unknown SKU 'NOPE-999'"),
        ("BRD-001 0", "line 1: quantity must be between 1 and 1000, got 0"),
        ("BRD-001 5\nBRD-002 -3", "line 2: quantity must be between 1 and 1000, got -3"),
        ("BRD-001 five", "line 1: quantity must be a whole number, got 'five'"),
        ("BRD-001 5 1.234", "line 1: unit cost: at most two decimal places"),
        ("", "the manifest is empty"),
    ],
)
async def test_an_invalid_manifest_shows_the_error_and_sends_nothing(
    store: Store, client: ApiClient, manifest: str, error: str
) -> None:
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        form = await open_form(pilot, app, "r", RestockScreen)
        form.query_one("#manifest", TextArea).text = manifest
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error in form.error)
        await pilot.pause(0.2)
        assert isinstance(app.screen, RestockScreen)  # still open, the error in place
    assert client.sent["POST /api/restocks"] == 0
    assert client.sent["POST /api/ops/accounts"] == 0
    assert await restocks(store) == []


async def test_adjust_stock_with_a_reason_and_an_api_error_verbatim(
    store: Store, client: ApiClient
) -> None:
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        table = app.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: "BRD-003" in table.row_keys)
        table.move_cursor(row=table.row_keys.index("BRD-003"))
        form = await open_form(pilot, app, "s", AdjustScreen)
        assert form.query_one("#sku", Input).value == "BRD-003"  # the highlighted row

        # zero is refused in the form
        form.query_one("#delta", Input).value = "0"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "delta must not be 0" in form.error)
        assert client.sent["POST /api/ops/stock/{sku}/adjust"] == 0

        # the store refuses going below zero: its words, in place
        form.query_one("#delta", Input).value = "-100000"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form.error.startswith("409 "))
        assert isinstance(app.screen, AdjustScreen)
        assert "409 Conflict" in form.error
        assert client.sent["POST /api/ops/stock/{sku}/adjust"] == 1

        form.query_one("#delta", Input).value = "-5"
        form.query_one("#reason", Select).value = "WASTE"
        form.query_one("#note", Input).value = "dropped"
        on_hand = next(i for i in await store.live.inventory() if i["sku"] == "BRD-003")["on_hand"]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, AdjustScreen))
        await until(pilot, lambda: (shown(table, "BRD-003") or [""] * 4)[3] == str(on_hand - 5))
    movements, _ = await store.live.movements(sku="BRD-003", movement_type="WASTE")
    assert [(m["delta"], m["user"]) for m in movements] == [(-5, "admin")]


async def test_change_price_and_min_level(store: Store, client: ApiClient) -> None:
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        form = await open_form(pilot, app, "e", ProductScreen)
        form.query_one("#sku", Input).value = "XXX-1"
        form.query_one("#price", Input).value = "0"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "unknown SKU 'XXX-1'" in form.error)
        assert "price must be above 0" in form.error
        form.query_one("#sku", Input).value = "PRO-002"
        form.query_one("#price", Input).value = "9.99"
        form.query_one("#min-level", Input).value = "77"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ProductScreen))
        table = app.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: (shown(table, "PRO-002") or [""] * 8)[6:8] == ["77", "9.99"])
    assert client.sent["PATCH /api/ops/products/{sku}"] == 1
    product = await store.live.product("PRO-002")
    assert (product["price"], product["min_level"]) == ("9.99", 77)


async def test_escape_closes_a_form_and_sends_nothing(store: Store, client: ApiClient) -> None:
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        form = await open_form(pilot, app, "r", RestockScreen)
        form.query_one("#manifest", TextArea).text = "BRD-001 10"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, FormScreen))
    assert client.sent["POST /api/restocks"] == 0
    assert await restocks(store) == []

"""The operator's forms: validated as typed and before anything is sent; the store's
errors in plain words, in place; a success shows what changed, in place; a restock
from the form completes and the inventory panel shows it."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Label, Select, TextArea

from autogrocery.api import views
from autogrocery.domain.models import OrderKind
from autogrocery.tui.app import DashboardApp
from autogrocery.tui.client import ApiClient
from autogrocery.tui.screens.actions import AdjustScreen, ProductScreen, RestockScreen
from autogrocery.tui.screens.form import FormScreen
from autogrocery.tui.widgets.table import LiveTable
from tests.api.conftest import TRUCK_PASSWORD
from tests.helpers import as_json, inventory_json, product_json, wait_final
from tests.tui.conftest import Store, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(60)


async def open_form(pilot, app: DashboardApp, key: str, kind: type[FormScreen]) -> FormScreen:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, kind))
    return app.screen  # type: ignore[return-value]


async def restocks(store: Store) -> list[dict[str, Any]]:
    found, _ = await store.live.list_orders(kind=OrderKind.RESTOCK, limit=100)
    return [as_json(views.restock(restock)) for restock in found]


async def test_a_restock_from_the_form_completes_and_shows_in_the_inventory(
    store: Store, client: ApiClient
) -> None:
    before = {i["sku"]: i for i in await inventory_json(store.live)}
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        form = await open_form(pilot, app, "r", RestockScreen)
        form.query_one("#manifest", TextArea).text = "BRD-001 40 3.10\nmea-002 12"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "restock rst_" in form.done)  # type: ignore[attr-defined]
        [restock] = await restocks(store)
        assert f"restock {restock['restock_id']} PROCESSING: 40 BRD-001 at 3.10" in form.done
        assert form.query_one("#manifest", TextArea).text == ""  # not sent twice by accident
        assert isinstance(app.screen, RestockScreen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RestockScreen))
        final = await wait_final(store.live, [], restocks=[str(restock["restock_id"])])
        assert final[str(restock["restock_id"])].status == "COMPLETED"
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
    from autogrocery.client import Credentials
    from tests.api.conftest import ADMIN_PASSWORD

    async with ApiClient(
        store.url, Credentials("admin", ADMIN_PASSWORD), Credentials("truck-1", TRUCK_PASSWORD)
    ) as client:
        receipt = await client.submit_restock(
            [{"sku": "PAR-001", "quantity": 5, "unit_cost": "2.00"}]
        )
        assert receipt.status == "PROCESSING"
        assert client.sent["POST /api/ops/accounts"] == 0


@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        ("NOPE-999 10", "line 1: unknown SKU 'NOPE-999'"),
        ("BRD-001 0", "line 1: quantity must be between 1 and 1000, got 0"),
        ("BRD-001 5\nBRD-002 -3", "line 2: quantity must be between 1 and 1000, got -3"),
        ("BRD-001 five", "line 1: quantity must be a whole number, got 'five'"),
        ("BRD-001 5 1.234", "line 1: unit cost: at most two decimal places"),
        ("BRD-001 5 0", "line 1: unit cost must be above 0"),
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


async def test_adjust_stock_checked_as_typed_in_plain_words_and_what_changed(
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
        delta = form.query_one("#delta", Input)
        problem = form.query_one("#delta-problem")

        # letters: kept as typed and the problem shown under the field, at once
        await pilot.press("a", "b", "c")
        await until(pilot, lambda: "got 'abc'" in str(problem.render()))
        assert delta.value == "abc"
        assert str(problem.render()) == "delta must be a whole number, got 'abc'"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "delta must be a whole number, got 'abc'" in form.error)
        delta.value = "-5"
        await until(pilot, lambda: str(problem.render()) == "")

        # zero is refused in the form
        delta.value = "0"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "delta must not be 0" in form.error)

        # more than there is: plain words, in place, and nothing sent
        item = await product_json(store.live, "BRD-003")
        delta.value = "-100000"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "cannot remove 100,000" in form.error)
        assert form.error == f"only {item['on_hand']:,} on hand; cannot remove 100,000"
        assert client.sent["POST /api/ops/stock/{sku}/adjust"] == 0

        delta.value = "-5"
        form.query_one("#reason", Select).value = "WASTE"
        form.query_one("#note", Input).value = "dropped"
        await pilot.press("ctrl+s")
        expected = (
            f"BRD-003 WASTE -5: on hand {item['on_hand']} → {item['on_hand'] - 5}, "
            f"available {item['available']} → {item['available'] - 5}"
        )
        await until(pilot, lambda: expected in form.done)  # type: ignore[attr-defined]
        assert isinstance(app.screen, AdjustScreen)  # open for the next one
        assert delta.value == ""
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AdjustScreen))
        on_hand = str(item["on_hand"] - 5)
        await until(pilot, lambda: (shown(table, "BRD-003") or [""] * 4)[3] == on_hand)
    assert client.sent["POST /api/ops/stock/{sku}/adjust"] == 1
    movements, _ = await store.live.movements(sku="BRD-003", movement_type="WASTE")
    assert [(m.delta, m.user) for m in movements] == [(-5, "admin")]


async def test_the_adjust_forms_hint_says_the_on_hand_after_each_adjustment(
    store: Store, client: ApiClient
) -> None:
    items = {i["sku"]: i for i in await inventory_json(store.live)}
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        table = app.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: "BRD-003" in table.row_keys)
        table.move_cursor(row=table.row_keys.index("BRD-003"))
        form = await open_form(pilot, app, "s", AdjustScreen)
        hint = next(  # the label above the change, as the operator reads it
            label for label in form.query(Label) if "on-hand units" in str(label.render())
        )

        def says(on_hand: int) -> bool:
            return f"(now {on_hand} on hand," in str(hint.render())

        on_hand = items["BRD-003"]["on_hand"]
        assert says(on_hand)
        for delta in (-5, -2):
            form.query_one("#delta", Input).value = str(delta)
            await pilot.press("ctrl+s")
            await until(pilot, lambda d=delta: f"BRD-003 WASTE {d:+d}" in form.done)  # type: ignore[misc]
            on_hand += delta
            await until(pilot, lambda n=on_hand: says(n))  # type: ignore[misc]
        # once the adjustments' events reach the dashboard, it still says so
        await until(pilot, lambda: app.model.inventory["BRD-003"].on_hand == on_hand)
        redraws = app.redraws
        await until(pilot, lambda: app.redraws > redraws)
        assert says(on_hand)

        # another SKU typed: its levels
        form.query_one("#sku", Input).value = "dai-001"
        await until(pilot, lambda: says(items["DAI-001"]["on_hand"]))


async def test_the_stores_refusal_in_plain_words(store: Store, client: ApiClient) -> None:
    """The dashboard's numbers can be a moment old: what the store refuses is said in
    the same plain words (the store's own 409 here, from a real API)."""
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        form = await open_form(pilot, app, "s", AdjustScreen)
        app.model.inventory["PRO-003"].on_hand = 10**9  # stale: thinks there is plenty
        form.query_one("#sku", Input).value = "PRO-003"
        form.query_one("#delta", Input).value = "-99999"
        form.query_one("#reason", Select).value = "ADJUST"
        await pilot.press("ctrl+s")
        item = await product_json(store.live, "PRO-003")
        want = f"only {item['on_hand']:,} on hand; cannot remove 99,999"
        await until(pilot, lambda: form.error == want)
    assert client.sent["POST /api/ops/stock/{sku}/adjust"] == 1


async def test_change_price_and_min_level(store: Store, client: ApiClient) -> None:
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        form = await open_form(pilot, app, "e", ProductScreen)
        form.query_one("#sku", Input).value = "XXX-1"
        form.query_one("#price", Input).value = "0"
        await until(pilot, lambda: "above 0" in str(form.query_one("#price-problem").render()))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "unknown SKU 'XXX-1'" in form.error)
        assert "price must be above 0" in form.error
        before = await product_json(store.live, "PRO-002")
        form.query_one("#sku", Input).value = "PRO-002"
        form.query_one("#price", Input).value = "9.99"
        form.query_one("#min-level", Input).value = "77"
        await pilot.press("ctrl+s")
        expected = f"PRO-002: price {before['price']} → 9.99, min level {before['min_level']} → 77"
        await until(pilot, lambda: expected in form.done)  # type: ignore[attr-defined]
        table = app.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: (shown(table, "PRO-002") or [""] * 8)[6:8] == ["77", "9.99"])
    assert client.sent["PATCH /api/ops/products/{sku}"] == 1
    product = await product_json(store.live, "PRO-002")
    assert (product["price"], product["min_level"]) == ("9.99", 77)


async def test_a_price_below_unit_cost_asks_first(store: Store, client: ApiClient) -> None:
    cost = (await product_json(store.live, "DAI-002"))["unit_cost"]
    low = f"{float(cost) / 2:.2f}"
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        form = await open_form(pilot, app, "e", ProductScreen)
        form.query_one("#sku", Input).value = "DAI-002"
        form.query_one("#price", Input).value = low
        await pilot.press("ctrl+s")
        await until(pilot, lambda: f"below DAI-002's unit cost {cost}" in form.error)
        assert client.sent["PATCH /api/ops/products/{sku}"] == 0
        await pilot.press("ctrl+s")  # the same price again: confirmed
        await until(pilot, lambda: f"→ {low}" in form.done)  # type: ignore[attr-defined]
    assert client.sent["PATCH /api/ops/products/{sku}"] == 1
    assert (await product_json(store.live, "DAI-002"))["price"] == low


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


@pytest.mark.parametrize("size", [(80, 24), (80, 16)])
async def test_at_80_columns_the_stores_answer_is_scrolled_into_view(
    store: Store, client: ApiClient, size: tuple[int, int]
) -> None:
    """A form taller than the terminal scrolls; what the store answers must not land
    below the fold, and a long label wraps instead of being cut."""
    app = dashboard(client)
    async with app.run_test(size=size) as pilot:
        await connected(pilot, app)
        await pilot.press("2")  # the inventory: the form opens on its highlighted SKU
        await until(pilot, lambda: app.query_one("#inventory-table", LiveTable).row_count > 0)
        form = await open_form(pilot, app, "s", AdjustScreen)
        assert "on hand" in str(form.query_one(".form").query(Label)[2].render())
        form.query_one("#sku", Input).value = "PRO-003"
        app.model.inventory["PRO-003"].on_hand = 10**9  # stale: thinks there is plenty
        form.query_one("#delta", Input).value = "-99999"
        form.query_one("#reason", Select).value = "ADJUST"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "cannot remove 99,999" in form.error)
        await pilot.pause()
        error = form.find_widget(form.query_one("#form-error")).region  # NoWidget: not shown
        assert form.region.contains_region(error), error
        if size == (80, 24):  # room for the labels too: a long one wraps, whole
            label = form.find_widget(form.query_one(".form").query(Label)[2]).region
            assert form.region.contains_region(label), label
            assert label.height >= 2  # "…negative takes stock away (now N on hand, …)"

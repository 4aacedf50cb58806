"""The inventory tab on a big store: a page of rows at a time, and products found as
you type through the store's own search, asked once the typing pauses."""

from __future__ import annotations

import pytest

from autogrocery.tui import client as tui_client
from autogrocery.tui.client import ApiClient
from autogrocery.tui.widgets import inventory
from autogrocery.tui.widgets.table import LiveTable
from tests.tui.conftest import Store, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(60)


def _note(app: object) -> str:
    return str(app.query_one("#inventory-count").render())  # type: ignore[attr-defined]


async def test_the_inventory_is_drawn_a_page_at_a_time(
    store: Store, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "PAGE", 20)  # the shipped 57 SKUs make three pages
    everything = await store.live.levels()
    in_order = [level.sku for level in sorted(everything, key=lambda i: (i.aisle, i.sku))]
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        table = app.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: table.row_keys == in_order[:20])
        assert "1-20 of 57 SKUs" in _note(app)
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: table.row_keys == in_order[20:40])
        await pilot.press("right_square_bracket", "right_square_bracket")  # past the end: stays
        await until(pilot, lambda: table.row_keys == in_order[40:])
        assert "41-57 of 57 SKUs" in _note(app)
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: table.row_keys == in_order[20:40])


async def test_search_as_you_type_asks_the_store_once_the_typing_pauses(
    store: Store, client: ApiClient
) -> None:
    expected = [item.sku for item in await client.find_stock("bread")]
    assert expected, "the shipped catalog has bread"
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2", "slash")
        table = app.query_one("#inventory-table", LiveTable)
        asked = client.sent[f"GET {tui_client.SEARCH}"]
        await pilot.press(*"bread")
        await until(pilot, lambda: table.row_keys == expected)
        assert f"{len(expected)} found" in _note(app)
        assert client.sent[f"GET {tui_client.SEARCH}"] == asked + 1  # one ask for 5 keys
        # The rows stay live: a sale shows without searching again.
        sku = expected[0]
        await store.live.adjust_stock(sku, -1, "WASTE", "dropped", "test")
        on_hand = (await store.live.product(sku)).on_hand
        await until(pilot, lambda: (shown(table, sku) or [""] * 4)[3] == str(on_hand))
        for _ in "bread":
            await pilot.press("backspace")
        await until(pilot, lambda: len(table.row_keys) == 57)

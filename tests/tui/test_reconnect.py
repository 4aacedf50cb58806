"""The store stops and starts again on the same port and data dir: the dashboard shows
the banner while it is gone, reconnects by itself, and shows the current data."""

from __future__ import annotations

import pytest
from textual.widgets import Static, TabbedContent

from autogrocery.domain.catalog import load_catalog
from autogrocery.tui.client import ApiClient
from autogrocery.tui.feed import Backoff, Link
from autogrocery.tui.messages import LinkChanged
from tests.tui.conftest import Store, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(60)


async def test_banner_while_the_store_is_down_then_reconnect_with_current_data(
    store: Store, client: ApiClient
) -> None:
    app = dashboard(client, backoff=Backoff(first=0.5, most=1.0, jitter=0.0))
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        banner = app.query_one("#banner", Static)
        table = app.main.query_one("#inventory-table")
        assert not banner.display

        await store.stop()
        await until(pilot, lambda: banner.display and banner.has_class("down"))
        message = str(banner.render())
        assert "DISCONNECTED from " + store.url in message
        assert "Reconnecting" in message
        assert "disconnected" in str(app.query_one("#status").render())
        await until(pilot, lambda: app.link.attempt >= 2)  # it keeps trying, with backoff

        await store.start()  # same port, same data dir
        levels = await store.live.adjust_stock("DAI-005", -7, "COUNT", "recount", "test")
        await until(pilot, lambda: app.link.connected)
        await until(pilot, lambda: not banner.display)
        # type: ignore[arg-type]
        await until(pilot, lambda: (shown(table, "DAI-005") or [""] * 4)[3] == str(levels.on_hand))

        # live again: events flow on the new connection
        levels = await store.live.adjust_stock("DAI-005", -3, "WASTE", None, "test")
        # type: ignore[arg-type]
        await until(pilot, lambda: (shown(table, "DAI-005") or [""] * 4)[3] == str(levels.on_hand))


async def test_the_dashboard_waits_for_a_store_that_is_not_up_yet(store: Store) -> None:
    await store.stop()
    async with store.client() as client:
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            banner = app.query_one("#banner", Static)
            await until(pilot, lambda: banner.has_class("down"))
            assert "cannot connect" in str(banner.render())
            await store.start()
            await connected(pilot, app)
            await until(pilot, lambda: not banner.display)
            assert len(app.model.inventory) == len(load_catalog(store.config.catalog_file))


async def test_a_lost_link_reported_while_the_dashboard_shuts_down_is_ignored() -> None:
    """The feed may say the store went away after the dashboard's widgets are gone (the
    store stopped as the dashboard quits); that must not crash the quitting app."""
    app = dashboard(None)
    async with app.run_test(size=(120, 36)) as pilot:
        tabs = app.main.query_one("#tabs", TabbedContent)
        switched = TabbedContent.TabActivated(tabs, tabs.get_tab("inventory"))
        await app.main.remove_children()  # as during shutdown
        app.post_message(LinkChanged(Link(connected=False, reason="gone", attempt=3)))
        app.post_message(switched)  # a tab switch that was on its way focuses a table
        await pilot.pause()
        assert app.is_running
    assert app.return_code in (None, 0)

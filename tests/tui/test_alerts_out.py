"""Alerts sent out, on the dashboard: a webhook whose deliveries were given up on is
named on the Alerts tab, and an operator chooses what they are mailed (n)."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Input, Label, RadioButton

from autogrocery.contract.notifications import PreferencesView
from autogrocery.contract.stock import InventoryItem
from autogrocery.contract.webhooks import NewWebhook
from autogrocery.tui.app import RECONCILE_EVERY
from autogrocery.tui.screens.notifications import NotificationsScreen
from tests.tui.conftest import StoreFactory, live_dashboard, until
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.timeout(60)


async def test_failed_deliveries_show_on_the_alerts_tab(make_store: StoreFactory) -> None:
    store = await make_store("notify.webhook_retry_for=0.5")
    receiver = await Receiver().start()
    receiver.scripts["down"] = [500] * 50
    try:
        async with live_dashboard(store) as (client, app, pilot):
            body = {"url": receiver.url("down"), "events": ["alert.raised"], "description": "bot"}
            await client.ask(NewWebhook, "POST", "/api/ops/webhooks", body)
            await pilot.press("5")
            line = app.query_one("#alerts-webhooks")
            assert not line.display
            await client.ask(
                InventoryItem, "PATCH", "/api/ops/products/DAI-001", {"min_level": 99_999}
            )
            await until(pilot, lambda: "bot: 1 failed delivery" in str(line.render()))
            assert line.display
    finally:
        await receiver.stop()


async def test_an_operator_chooses_what_they_are_mailed(make_store: StoreFactory) -> None:
    store = await make_store()
    async with live_dashboard(store) as (client, app, pilot):
        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, NotificationsScreen)
        await until(
            pilot,
            lambda: "no SMTP relay" in str(screen.query_one("#mail-configured", Label).render()),
        )
        screen.query_one("#email", Input).value = "manager@example"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "you@example.com" in screen.error)
        screen.query_one("#email", Input).value = "manager@example.com"
        screen.query_one("#kind-low_stock", Checkbox).value = True
        screen.query_one("#kind-robot_offline", Checkbox).value = True
        screen.query_one("#digest", RadioButton).value = True
        screen.query_one("#quiet-start", Input).value = "22:00"
        screen.query_one("#quiet-end", Input).value = "06:30"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "saved: manager@example.com" in screen.done)
        assert "daily digest" in screen.done
        saved = await client.ask(PreferencesView, "GET", "/api/ops/notifications/preferences")
        assert (saved.email, saved.events, saved.mode) == (
            "manager@example.com",
            ["low_stock", "robot_offline"],
            "digest",
        )
        assert saved.quiet_hours is not None
        assert (saved.quiet_hours.start, saved.quiet_hours.end) == ("22:00", "06:30")
        await pilot.press("escape")
        await pilot.press("n")  # opened again: it shows what the store has
        again = app.screen
        assert isinstance(again, NotificationsScreen)
        await until(pilot, lambda: again.query_one("#email", Input).value == "manager@example.com")
        assert again.query_one("#kind-robot_offline", Checkbox).value
        assert not again.query_one("#kind-expired", Checkbox).value
        assert again.query_one("#digest", RadioButton).value


async def test_the_webhooks_poll_finds_no_panel_while_the_app_closes(
    make_store: StoreFactory,
) -> None:
    """The poll that reads the webhooks runs while the dashboard closes (its panels
    gone): it shows them nowhere instead of failing (a failed worker fails the app)."""
    store = await make_store()
    async with live_dashboard(store) as (_, app, pilot):
        await app.main.query_one("#alerts-panel").remove()
        polls = app._polls
        await until(pilot, lambda: app._polls > polls + RECONCILE_EVERY)

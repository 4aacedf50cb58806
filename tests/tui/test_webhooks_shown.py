"""A webhook whose deliveries were given up on is named on the Alerts tab."""

from __future__ import annotations

import pytest

from autogrocery.contract.stock import InventoryItem
from autogrocery.contract.webhooks import NewWebhook
from autogrocery.tui.client import ApiClient
from tests.tui.conftest import StoreFactory, connected, dashboard, until
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.timeout(60)


async def test_failed_deliveries_show_on_the_alerts_tab(make_store: StoreFactory) -> None:
    store = await make_store("notify.webhook_retry_for=0.5")
    receiver = await Receiver().start()
    receiver.scripts["down"] = [500] * 50
    try:
        async with store.client() as client:
            assert isinstance(client, ApiClient)
            body = {"url": receiver.url("down"), "events": ["alert.raised"], "description": "bot"}
            await client.ask(NewWebhook, "POST", "/api/ops/webhooks", body)
            app = dashboard(client)
            async with app.run_test(size=(160, 50)) as pilot:
                await connected(pilot, app)
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

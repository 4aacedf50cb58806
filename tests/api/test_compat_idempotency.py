"""The layer keeps the store's idempotency: the original clients send no Idempotency-Key
and behave as on the original, but a client that sends one (a fridge maker's retrying
firmware) gets the native rule: the same key and body answer the first answer again,
and nothing is done twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from autogrocery.domain.models import OrderKind
from tests.api.conftest import Api, ApiFactory
from tests.api.original_clients import send
from tests.api.test_compat_errors import ON, Raw, text
from tests.helpers import analytics_settled, check_invariants, wait_final
from tests.waiting import eventually


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def test_a_retried_preview_confirm_and_delivery_are_done_once(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    fridge = await Raw(session, api).fridge("fridge-7")
    auth = {"Authorization": f"Bearer {fridge.token}"}

    async def twice(
        path: str, payload: object, key: str, headers: dict[str, str] = auth
    ) -> tuple[str, str]:
        headers = headers | {"Idempotency-Key": key}
        first = await send(session, "POST", url + path, payload, headers)
        again = await send(session, "POST", url + path, payload, headers)
        assert (again.status_code, again.content_type) == (first.status_code, first.content_type)
        return first.text, again.text

    first, again = await twice(
        "api/client/order/preview", {"items": [{"sku": "BRD-001", "quantity": 2}]}, "p-1"
    )
    assert first == again
    orders, _ = await api.system.list_orders(limit=10)
    assert len(orders) == 1  # one order, 2 units reserved once
    inventory = {level.sku: level for level in await api.system.levels()}
    assert inventory["BRD-001"].reserved == 2

    order_id = orders[0].order_id
    first, again = await twice("api/client/order/confirm", {"order_id": order_id}, "c-1")
    assert first == again  # the first 200, not the 409 of a second confirm
    await wait_final(api.system, [order_id])

    delivery = {
        "supplier_id": "S-1",
        "supplier_name": "Farm",
        "items": [{"sku": "BRD-001", "quantity": 5, "unit_cost": 1.1}],
    }
    first, again = await twice("api/truck/restock", delivery, "d-1", {})  # the truck UI
    assert first == again
    assert "restock accepted" in first
    restocks, _ = await api.system.list_orders(limit=10, kind=OrderKind.RESTOCK)
    assert len(restocks) == 1
    await wait_final(api.system, [], restocks=[restocks[0].order_id])
    await eventually(lambda: analytics_settled(api.system), within=10)  # its row follows COMPLETED
    check_invariants(api.config.data_path)

    # an error is remembered as the original answers it: plain text, same status
    short = {"items": [{"sku": "BRD-001", "quantity": 999}]}
    first, again = await twice("api/client/order/preview", short, "p-2")
    assert first == again
    assert "insufficient stock" in first

    # the same key with another body is refused, in plain text, and changes nothing
    before = await api.snapshot()
    res = await send(
        session,
        "POST",
        url + "api/client/order/preview",
        {"items": [{"sku": "BRD-001", "quantity": 1}]},
        auth | {"Idempotency-Key": "p-1"},
    )
    assert "different request" in text(res, 422)
    assert await api.snapshot() == before


async def test_without_a_key_a_second_confirm_is_409_as_on_the_original(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api: Api = await make_api(*ON)
    raw = await Raw(session, api).fridge("fridge-8")
    previewed = await raw(
        "POST", "api/client/order/preview", {"items": [{"sku": "BRD-001", "quantity": 1}]}
    )
    order = {"order_id": previewed.json()["order_id"]}
    assert (await raw("POST", "api/client/order/confirm", order)).status_code == 200
    assert text(await raw("POST", "api/client/order/confirm", order), 409).endswith("not PENDING\n")
    await wait_final(api.system, [order["order_id"]])

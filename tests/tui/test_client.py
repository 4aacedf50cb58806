"""The dashboard's API client against a real store: renewal of an expired login (one
refresh for many callers), errors verbatim, and a store that is not there."""

from __future__ import annotations

import asyncio
import base64
import time

import orjson
import pytest

from autogrocery.client import ApiError, Credentials, Disconnected
from autogrocery.tui.client import ApiClient
from tests.api.conftest import ADMIN_PASSWORD
from tests.tui.conftest import StoreFactory

pytestmark = pytest.mark.timeout(30)


def expiry(token: str) -> float:
    payload = token.split(".")[1]
    return float(orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


async def test_an_expired_login_is_refreshed_once_for_concurrent_calls(
    make_store: StoreFactory,
) -> None:
    store = await make_store("auth.access_ttl=1")
    async with store.client() as client:
        await client.inventory()
        assert client.account is not None
        token = client.account.access
        await asyncio.sleep(max(0.0, expiry(token) + 0.2 - time.time()))  # now it is dead
        results = await asyncio.gather(*(client.robots() for _ in range(5)))
        assert all(len(robots) == 5 for robots in results)
        assert client.sent["POST /api/auth/refresh"] == 1
        assert client.sent["POST /api/auth/login"] == 1
        async with client.events() as ws:  # the WebSocket takes the new token too
            assert not ws.closed


async def test_errors_keep_the_servers_words(make_store: StoreFactory) -> None:
    store = await make_store()
    async with store.client() as client:
        with pytest.raises(ApiError) as caught:
            await client.adjust_stock("BRD-001", -100000, "WASTE")
        assert caught.value.status == 409
        assert str(caught.value).startswith("409 Conflict: ")
        with pytest.raises(ApiError) as caught:
            await client.update_product("NOPE-1", price="1.00")
        assert caught.value.status == 404
    async with ApiClient(store.url, Credentials("admin", "wrong-password")) as client:
        with pytest.raises(ApiError, match="401 Unauthorized: unknown username or wrong password"):
            await client.inventory()


async def test_a_store_that_is_not_there(make_store: StoreFactory) -> None:
    store = await make_store()
    await store.stop()
    async with ApiClient(store.url, Credentials("admin", ADMIN_PASSWORD)) as client:
        with pytest.raises(Disconnected, match="cannot connect"):
            await client.inventory()
    assert repr(Credentials("admin", ADMIN_PASSWORD)) == "Credentials('admin', password=…)"

"""The dashboard's API client against a real store: renewal of an expired login (one
refresh for many callers), errors verbatim, and a store that is not there; and against
a made-up one, answers and events the dashboard does not understand."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Awaitable, Callable

import orjson
import pytest
from aiohttp import web

from autogrocery.client import ApiError, Credentials, Disconnected, UnexpectedAnswer
from autogrocery.contract.events import Event, MetricsTicked
from autogrocery.tui.client import ApiClient
from autogrocery.tui.feed import Backoff, Feed, Link
from tests.api.conftest import ADMIN_PASSWORD
from tests.tui.conftest import StoreFactory
from tests.waiting import eventually

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


# --- answers the dashboard does not understand ----------------------------------------

TICK = {
    "type": "metrics.tick",
    "seq": 2,
    "at": "2026-01-01T00:00:00.000Z",
    "data": {"orders": {}, "robots_alive": {}, "loop_lag_ms": 0.5},
}


async def odd_store(inventory: dict[str, object], frames: list[bytes]) -> web.AppRunner:
    """A store whose inventory answer is `inventory` and whose event stream sends
    `frames`; every other listing is empty."""

    async def login(_: web.Request) -> web.Response:
        return web.json_response({"access_token": "a", "refresh_token": "r"})

    async def events(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in frames:
            await ws.send_bytes(frame)
        async for _ in ws:  # until the dashboard hangs up
            pass
        return ws

    def listing(body: dict[str, object]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(_: web.Request) -> web.Response:
            return web.json_response(body)

        return answer

    app = web.Application()
    app.router.add_post("/api/auth/login", login)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/ops/inventory", listing(inventory))
    app.router.add_get("/api/orders", listing({"orders": [], "next_cursor": None}))
    app.router.add_get("/api/restocks", listing({"restocks": [], "next_cursor": None}))
    app.router.add_get("/api/ops/robots", listing({"robots": []}))
    app.router.add_get("/api/ops/alerts", listing({"alerts": []}))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def url_of(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


async def test_an_answer_of_another_shape_is_said_in_the_banner() -> None:
    """The dashboard decodes each answer strictly into the API's Struct: an answer that
    does not decode is an `UnexpectedAnswer` (an `ApiError`), shown as the banner's
    reason like any other answer the store should not have given, never a traceback."""
    runner = await odd_store({"items": "none", "next_cursor": None}, [])
    links: list[Link] = []
    try:
        async with ApiClient(url_of(runner), Credentials("admin", "pw")) as client:
            with pytest.raises(UnexpectedAnswer) as caught:
                await client.inventory()
            assert isinstance(caught.value, ApiError)
            assert str(caught.value) == (
                "unexpected answer to /api/ops/inventory: "
                "Expected `array`, got `str` - at `$.items`"
            )
            feed = Feed(client, lambda _: None, lambda _: None, links.append, Backoff(first=9))
            task = asyncio.create_task(feed.run())
            await eventually(lambda: links and links[-1].attempt, within=10)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await runner.cleanup()
    assert links[-1].reason == str(caught.value)


async def test_an_answer_with_fields_added_later_is_read() -> None:
    """A store of a later version may add fields to its answers and events: the
    dashboard reads what it knows and ignores the rest, instead of losing the store."""
    item = {
        "sku": "BRD-001",
        "name": "Sourdough loaf",
        "aisle": "bread",
        "on_hand": 5,
        "reserved": 0,
        "expired": 0,
        "available": 5,
        "min_level": 2,
        "price": "4.20",
        "unit_cost": "3.10",
        "shelf": "A3",
    }
    tick = orjson.loads(orjson.dumps(TICK))
    tick["data"]["added_later"] = True
    runner = await odd_store({"items": [item], "next_cursor": None}, [orjson.dumps(tick)])
    try:
        async with ApiClient(url_of(runner), Credentials("admin", "pw")) as client:
            (found,) = await client.inventory()
            assert (found.sku, found.available) == ("BRD-001", 5)
            got = await first_events(client)
    finally:
        await runner.cleanup()
    assert [type(event) for event in got] == [MetricsTicked]


async def first_events(client: ApiClient) -> list[Event]:
    """What the dashboard's feed hands on from the store's events, until the first."""
    got: list[Event] = []
    feed = Feed(client, lambda _: None, got.append, lambda _: None)
    task = asyncio.create_task(feed.run())
    await eventually(lambda: got, within=10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return got


async def test_an_event_of_another_shape_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    """A frame that is not an event the dashboard knows is logged and dropped; the
    events after it still arrive."""
    frames = [b"not json", b'{"type": "no.such.event", "seq": 1}', orjson.dumps(TICK)]
    runner = await odd_store({"items": [], "next_cursor": None}, frames)
    try:
        async with ApiClient(url_of(runner), Credentials("admin", "pw")) as client:
            got = await first_events(client)
    finally:
        await runner.cleanup()
    assert [type(event) for event in got] == [MetricsTicked]
    dropped = [r.getMessage() for r in caplog.records if "dropped an event" in r.getMessage()]
    assert len(dropped) == 2
    assert "no.such.event" in dropped[1]

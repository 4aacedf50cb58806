"""The bench's setup against a store that is busy or restarting: a registration or a
login that gets 503 (or finds no server) is tried again with backoff; one that gets a
4xx is not, except a registration's 409 on a retry (its first try was committed)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from autogrocery.bench.runner import register, retrying
from autogrocery.client import Account, ApiError, Credentials, Disconnected, StoreClient

pytestmark = pytest.mark.timeout(30)


@dataclass
class Flaky:
    """A login that answers the statuses in `answers` first, then 200 with a token."""

    server: TestServer
    answers: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        status = self.answers.pop(0) if self.answers else 200
        self.seen.append(status)
        if status != 200:
            return web.json_response({"title": "busy"}, status=status)
        return web.json_response({"access_token": "t", "refresh_token": "r"})

    async def handle_register(self, request: web.Request) -> web.Response:
        status = self.answers.pop(0) if self.answers else 201
        self.seen.append(status)
        return web.json_response({"title": "as told"}, status=status)


@pytest.fixture
async def flaky() -> AsyncIterator[Flaky]:
    app = web.Application()
    store = Flaky(TestServer(app, host="127.0.0.1"))
    app.router.add_post("/api/auth/login", store.handle)
    app.router.add_post("/api/auth/register", store.handle_register)
    await store.server.start_server()
    yield store
    await store.server.close()


async def test_a_busy_store_is_tried_again_until_it_answers(
    flaky: Flaky, capsys: pytest.CaptureFixture[str]
) -> None:
    flaky.answers.extend([503, 429, 503])
    fridge = Account(Credentials("fridge", "pw"))
    async with StoreClient(str(flaky.server.make_url("/"))) as client:
        await retrying("log in", lambda: client.log_in(fridge))
    assert fridge.headers == {"Authorization": "Bearer t"}
    assert flaky.seen == [503, 429, 503, 200]
    said = capsys.readouterr().err
    assert said.count("could not log in (login answered") == 3


async def test_a_refusal_is_not_retried_and_a_lasting_failure_gives_up(flaky: Flaky) -> None:
    flaky.answers.append(401)
    wrong, right = Account(Credentials("fridge", "wrong")), Account(Credentials("fridge", "pw"))
    async with StoreClient(str(flaky.server.make_url("/"))) as client:
        with pytest.raises(ApiError):
            await retrying("log in", lambda: client.log_in(wrong))
        assert flaky.seen == [401]
        flaky.answers.extend([503, 503, 503])
        with pytest.raises(ApiError):
            await retrying("log in", lambda: client.log_in(right), attempts=3)
    assert flaky.seen == [401, 503, 503, 503]


async def test_a_store_that_is_not_there_is_tried_again_then_given_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A port on which nothing listens: bound and kept (never listening, so connecting is
    # refused), so that nothing else can take it while the test runs.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        fridge = Account(Credentials("fridge", "pw"))
        async with StoreClient(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(Disconnected):
                await retrying("log in", lambda: client.log_in(fridge), attempts=2)
    assert capsys.readouterr().err.count("could not log in (ClientConnectorError") == 1


async def test_a_registration_is_retried_and_a_409_after_a_lost_answer_is_done(
    flaky: Flaky, capsys: pytest.CaptureFixture[str]
) -> None:
    async with StoreClient(str(flaky.server.make_url("/"))) as client:
        flaky.answers.extend([503, 201])
        await register(client, Credentials("bench-1", "pw"))
        # committed, but the answer was lost (a 502 from a restarting store): the retry's
        # 409 says the device is there
        flaky.answers.extend([502, 409])
        await register(client, Credentials("bench-2", "pw"))
        flaky.answers.append(409)  # a first try's 409 is a real conflict
        with pytest.raises(ApiError):
            await register(client, Credentials("bench-3", "pw"))
    assert flaky.seen == [503, 201, 502, 409, 409]
    assert capsys.readouterr().err.count("could not register bench-") == 2

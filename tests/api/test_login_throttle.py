"""Login throttling as OWASP advises: failures count per (username, client) and per
client, never per account alone, so nobody can lock the operator out from elsewhere.

Each client is a real TCP connection from its own loopback address (127.0.0.2, …)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.api.conftest import ADMIN_PASSWORD, Api

PER_PAIR = 3
PER_CLIENT = 6
Login = Callable[[str, str], Awaitable[int]]


@pytest.fixture
async def throttled(make_api: Any) -> Api:
    return await make_api(
        f"auth.login_max_failures={PER_PAIR}", f"auth.login_ip_max_failures={PER_CLIENT}"
    )


@pytest.fixture
async def clients(throttled: Api) -> AsyncIterator[Callable[[str], Login]]:
    sessions: list[aiohttp.ClientSession] = []
    base = str(throttled.client.make_url("/"))

    def client(address: str) -> Login:
        session = aiohttp.ClientSession(
            base, connector=aiohttp.TCPConnector(local_addr=(address, 0))
        )
        sessions.append(session)

        async def login(username: str, password: str) -> int:
            async with session.post(
                "/api/auth/login", json={"username": username, "password": password}
            ) as response:
                body = await response.read()
                throttled.contract.check(
                    "POST", "/api/auth/login", response.status, response.content_type, body
                )
                if response.status == 429:
                    assert int(response.headers["Retry-After"]) >= 1
                return response.status

        return login

    yield client
    for session in sessions:
        await session.close()


async def test_failures_from_one_client_never_lock_the_account_elsewhere(
    throttled: Api, clients: Callable[[str], Login]
) -> None:
    await throttled.device("fridge-1")
    attacker, operator = clients("127.0.0.2"), clients("127.0.0.3")
    for _ in range(PER_PAIR):
        assert await attacker("admin", "guess-guess") == 401
    assert await attacker("admin", ADMIN_PASSWORD) == 429  # this pair is throttled
    assert await attacker("ADMIN", "guess-guess") == 429  # by its normalised name
    assert await operator("admin", ADMIN_PASSWORD) == 200, "the operator was locked out"
    assert await attacker("fridge-1", "fridge-pass-1") == 200  # other names from there


async def test_a_client_guessing_many_names_is_throttled_but_not_its_known_users(
    throttled: Api, clients: Callable[[str], Login]
) -> None:
    await throttled.device("fridge-1")
    await throttled.device("fridge-2")
    shared, elsewhere = clients("127.0.0.4"), clients("127.0.0.5")
    assert await shared("fridge-1", "fridge-pass-1") == 200  # fridge-1 is known there
    for n in range(PER_CLIENT):
        assert await shared(f"invented-{n}", "guess-guess") == 401
    assert await shared("invented-x", "guess-guess") == 429  # the client is throttled
    assert await shared("fridge-2", "fridge-pass-1") == 429  # …for names new to it
    assert await shared("fridge-1", "fridge-pass-1") == 200, "a known user was locked out"
    assert await elsewhere("fridge-2", "fridge-pass-1") == 200  # other clients: untouched
    for _ in range(PER_PAIR):  # a known user still has its own (username, client) limit
        assert await shared("fridge-1", "guess-guess") == 401
    assert await shared("fridge-1", "fridge-pass-1") == 429


async def test_a_success_does_not_clear_another_clients_failures(
    throttled: Api, clients: Callable[[str], Login]
) -> None:
    attacker, operator = clients("127.0.0.6"), clients("127.0.0.7")
    for _ in range(PER_PAIR):
        assert await attacker("admin", "guess-guess") == 401
    assert await operator("admin", ADMIN_PASSWORD) == 200
    assert await attacker("admin", "guess-guess") == 429


def test_a_client_is_its_address_and_an_ipv6_client_its_64() -> None:
    from autogrocery.api.throttle import client_key

    assert client_key("192.0.2.7") != client_key("192.0.2.8")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7")
    # one host holds a whole /64: rotating addresses inside it is one client
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key(None) == "unknown"

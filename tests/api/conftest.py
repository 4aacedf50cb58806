"""API fixtures: a real System behind the real aiohttp app, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from autogrocery.api import create_app
from autogrocery.api.serving import JsonAccessLogger
from autogrocery.api.state import DOCUMENT
from autogrocery.config import Config
from autogrocery.domain.models import OrderKind
from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.api.contract import Contract
from tests.conftest import ConfigFactory

ADMIN_PASSWORD = "admin-password-1"
TRUCK_PASSWORD = "truck-password-1"
ENVIRON = {
    "AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "AUTOGROCERY_TRUCK_PASSWORD": TRUCK_PASSWORD,
}


@dataclass
class Api:
    """A client with a few shortcuts; every call is real HTTP."""

    client: TestClient
    system: System
    config: Config
    contract: Contract

    async def login(self, username: str, password: str) -> dict[str, Any]:
        response = await self.client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status == 200, await response.text()
        return dict(await response.json())

    async def bearer(self, username: str, password: str) -> dict[str, str]:
        tokens = await self.login(username, password)
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    async def device(self, username: str = "fridge-1") -> dict[str, str]:
        response = await self.client.post(
            "/api/auth/register", json={"username": username, "password": "fridge-pass-1"}
        )
        assert response.status in (201, 409), await response.text()
        return await self.bearer(username, "fridge-pass-1")

    async def operator(self) -> dict[str, str]:
        return await self.bearer("admin", ADMIN_PASSWORD)

    async def truck(self) -> dict[str, str]:
        return await self.bearer("truck-1", TRUCK_PASSWORD)

    async def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, Any, ClientResponse]:
        response = await self.client.request(
            method, path, headers=headers, allow_redirects=False, **kwargs
        )
        body = await response.read()
        # Every answer of every API test must be what the OpenAPI document declares.
        self.contract.check(
            method, path, response.status, response.content_type, body, response.headers
        )
        if response.content_type.endswith("json") and body:
            return response.status, orjson.loads(body), response
        return response.status, body, response

    async def snapshot(self) -> tuple[Any, ...]:
        """Everything a bad request must leave unchanged."""
        orders, _ = await self.system.list_orders(limit=500)
        restocks, _ = await self.system.list_orders(limit=500, kind=OrderKind.RESTOCK)
        movements, _ = await self.system.movements(limit=1000)
        return (await self.system.levels(), orders, restocks, len(movements))


ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(make_config: ConfigFactory, aiohttp_client: Any) -> AsyncIterator[ApiFactory]:
    built: list[Api] = []

    async def build(
        *overrides: str,
        config: Config | None = None,
        init: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> Api:
        config = config or make_config("auth.bcrypt_cost=4", *overrides)
        system = await start_system(config, init=init, clock=clock)
        server = TestServer(create_app(config, system, environ=ENVIRON))
        await server.start_server(access_log_class=JsonAccessLogger)  # as `autogrocery run`
        client = await aiohttp_client(server)
        document = orjson.loads(server.app[DOCUMENT].encoded())
        built.append(Api(client, system, config, Contract(document)))
        return built[-1]

    yield build
    for api in built:  # as `autogrocery run` stops: the server first, then the store
        await api.client.close()
        await api.system.stop()


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    return await make_api()

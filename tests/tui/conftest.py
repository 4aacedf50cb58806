"""Dashboard fixtures: a real System behind the real aiohttp app on 127.0.0.1 (a fixed
port, so the store can stop and start again where the dashboard expects it), and an
`ApiClient` logged in as the bootstrap operator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from rich.text import Text
from textual.pilot import Pilot

from autogrocery.api import create_app, serve
from autogrocery.client import Credentials
from autogrocery.config import Config
from autogrocery.service.system import System
from autogrocery.tui.app import DashboardApp
from autogrocery.tui.client import ApiClient
from autogrocery.tui.feed import Backoff
from autogrocery.tui.widgets.table import LiveTable
from autogrocery.wiring import start_system
from tests.api.conftest import ADMIN_PASSWORD, ENVIRON
from tests.conftest import ConfigFactory
from tests.waiting import eventually


@dataclass
class Store:
    """A store and its API that a test can stop and start again on the same port."""

    config: Config
    port: int = 0
    system: System | None = None
    runner: web.AppRunner | None = None
    url: str = ""
    starts: list[float] = field(default_factory=list)

    async def start(self) -> Store:
        self.system = await start_system(self.config)
        app = create_app(self.config, self.system, environ=ENVIRON)
        self.runner, self.url = await serve(app, "127.0.0.1", self.port)
        self.port = int(self.url.rsplit(":", 1)[1])
        self.starts.append(time.monotonic())
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.system is not None:
            await self.system.stop()
            self.system = None

    @property
    def live(self) -> System:
        assert self.system is not None
        return self.system

    def client(self) -> ApiClient:
        return ApiClient(self.url, Credentials("admin", ADMIN_PASSWORD))


StoreFactory = Callable[..., Awaitable[Store]]


@pytest.fixture
async def make_store(make_config: ConfigFactory) -> AsyncIterator[StoreFactory]:
    stores: list[Store] = []

    async def build(*overrides: str, config: Config | None = None) -> Store:
        store = Store(config or make_config("auth.bcrypt_cost=4", *overrides))
        stores.append(store)
        return await store.start()

    yield build
    for store in stores:
        await store.stop()


@pytest.fixture
async def store(make_store: StoreFactory) -> Store:
    return await make_store("robots.per_aisle=1")


def dashboard(client: ApiClient | None, **options: object) -> DashboardApp:
    """The app as tests run it: quick polls and a quick reconnect."""
    settings: dict[str, object] = {
        "redraw_hz": 10.0,
        "poll_interval": 0.2,
        "backoff": Backoff(first=0.05, most=0.5),
    }
    return DashboardApp(client, **(settings | options))  # type: ignore[arg-type]


async def until(pilot: Pilot[None], check: Callable[[], object], *, within: float = 15.0) -> object:
    """Let the app run until `check()` is truthy (the dashboard tests' bound: 15 s); the
    pilot's pause between looks lets it handle its messages and redraw."""
    return await eventually(check, within=within, every=0.05, pause=pilot.pause)


async def connected(pilot: Pilot[None], app: DashboardApp) -> None:
    await until(pilot, lambda: app.link.connected and app.model.inventory)


@asynccontextmanager
async def live_dashboard(
    store: Store,
) -> AsyncIterator[tuple[ApiClient, DashboardApp, Pilot[None]]]:
    """The dashboard on `store`, logged in as its operator and connected."""
    async with store.client() as client:
        app = dashboard(client)
        async with app.run_test(size=(160, 50)) as pilot:
            await connected(pilot, app)
            yield client, app, pilot


def text(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def shown(table: LiveTable, key: str) -> list[str] | None:
    cells = table.cells(key)
    return None if cells is None else [text(c) for c in cells]


@pytest.fixture
async def client(store: Store) -> AsyncIterator[ApiClient]:
    async with store.client() as api:
        yield api

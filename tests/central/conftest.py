"""Head office fixtures: a real `CentralService` (hub nats-server, chain worker, HTTP API
on 127.0.0.1) in a temp data dir, stores enrolled with real join files, and real leaf
nats-servers made from them. Every test of a head office runs twice: on the SQLite read
model and on a PostgreSQL one (a real server, `tests/postgres.py`)."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import time
import zoneinfo
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from autogrocery.central.enroll import enroll
from autogrocery.central.hub_cluster import HubCluster
from autogrocery.central.service import CentralService
from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.chain.protocol import up_stream
from autogrocery.config import Config, load_config
from tests.api.contract import Contract
from tests.central.leaf import Leaf
from tests.postgres import PostgresServer
from tests.waiting import eventually

# A hub that stops answering is asked for its goroutines (`Central.hub_state`): Go
# prints every one's stack on SIGQUIT only with this, in the environment it inherits.
os.environ.setdefault("GOTRACEBACK", "all")

ADMIN_PASSWORD = "admin-password-1"
ENVIRON = {"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD}


def central_config(data_dir: Path, *overrides: str) -> Config:
    base = [
        f"central.data_dir={data_dir}",
        "central.port=0",
        "central.leaf_port=0",
        "central.reconcile_interval=0.2",
        "central.ack_wait=2",
        "auth.bcrypt_cost=4",
        "log.format=text",
    ]
    return load_config(env={}, overrides=[*base, *overrides])


@dataclass
class Central:
    """A running head office and shortcuts to drive it from outside, as stores and
    operators would."""

    service: CentralService
    config: Config
    tmp: Path
    contract: Contract
    http: aiohttp.ClientSession
    leaves: list[Leaf] = field(default_factory=list)
    _token: str = ""

    @property
    def url(self) -> str:
        return self.service.url

    def enroll(self, store_id: str, *, rotate: bool = False) -> Path:
        out = self.tmp / f"{store_id}.join"
        enroll(self.config.central, store_id, out=out, rotate=rotate)
        self.service.enrolment_changed()  # what the SIGHUP of `central enroll` does
        return out

    async def leaf(self, store_id: str, *, enroll: bool = True, epoch: int = 1) -> Leaf:
        """A store's leaf, enrolled (unless told), linked to the hub, its stream sourced."""
        join = self.enroll(store_id) if enroll else self.tmp / f"{store_id}.join"
        leaf = await Leaf.start(join, self.tmp / f"leaf-{store_id}", epoch=epoch)
        self.leaves.append(leaf)
        await self.linked(store_id, epoch)
        return leaf

    async def linked(self, store_id: str, epoch: int = 1, within: float = 20.0) -> None:
        """Wait until CHAIN_IN sources the store's up stream of `epoch`."""
        stream = f'"{up_stream(store_id, epoch)}"'

        async def check() -> bool:
            return stream in await asyncio.get_running_loop().run_in_executor(None, self.sourced)

        try:
            await eventually(check, within=within, every=0.05)
        except AssertionError as failed:  # say what the hub was doing, for the next one
            state = await asyncio.get_running_loop().run_in_executor(None, self.hub_state)
            raise AssertionError(f"{failed}\n{state}") from None

    def hub_state(self) -> str:
        """The hub as it is now: its load (`/varz`), its streams' sources, the end of its
        log, and then the goroutines it had blocked on a lock (Go prints every goroutine's
        stack on SIGQUIT, and exits): a hub that stops answering its JetStream API
        shows where it is stuck."""
        hub = self.service.hub
        if hub is None or hub.server is None:
            return "no hub"
        varz = hub.server.monitor("/varz") or {}
        shown = {k: varz.get(k) for k in ("cpu", "mem", "slow_consumers", "connections")}
        sources = self.sourced()[:1500]
        path, pid = hub.server.log_path, hub.server.pid
        before = path.stat().st_size if path.exists() else 0
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)
            time.sleep(2.0)
        text = path.read_text(errors="replace") if path.exists() else ""
        log = text[:before].splitlines()[-20:]
        blocks = [b for b in text[before:].split("\n\n") if b.startswith("goroutine ")]
        states = collections.Counter(b.split("[", 1)[-1].split("]", 1)[0] for b in blocks)
        stuck = [b for b in blocks if "semacquire" in b or "Lock" in b or "chan receive" in b]
        stuck.sort(key=lambda b: "RLock]" in b.split("\n", 1)[0])  # a lock's holder first
        return (
            f"hub {shown}\nsources: {sources}\nhub log:\n"
            + "\n".join(log)
            + f"\ngoroutines by state: {dict(states)}"
            + f"\n{len(stuck)} waiting on a lock or channel:\n"
            + "\n\n".join(stuck)[:12000]
        )

    async def sql(self, statement: str) -> None:
        """Change the read model behind the head office's back (a test's setup), on
        whichever backend it is: one statement, committed."""
        model = self.service.model
        assert model is not None

        def run() -> None:
            conn = model.backend.connect()
            try:
                conn.execute(statement).close()
            finally:
                conn.close()

        await asyncio.get_running_loop().run_in_executor(None, run)

    def sourced(self) -> str:
        """The hub's JetStream report (streams with their config: CHAIN_IN's sources)."""
        hub = self.service.hub
        servers = hub.servers if isinstance(hub, HubCluster) else [hub.server] if hub else []
        for server in servers:  # a cluster's first node that answers
            jsz = server.monitor("/jsz?streams=true&config=true&accounts=true") if server else None
            if jsz:
                return orjson.dumps(jsz).decode()
        return "{}"

    async def token(self) -> str:
        if not self._token:
            async with self.http.post(
                self.url + "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            ) as response:
                assert response.status == 200, await response.text()
                self._token = (await response.json())["access_token"]
        return self._token

    async def call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        """Real HTTP; every answer checked against the head office's OpenAPI document."""
        sent = dict(headers or {})
        if auth:
            sent.setdefault("Authorization", f"Bearer {await self.token()}")
        async with self.http.request(
            method, self.url + path, headers=sent, allow_redirects=False, **kwargs
        ) as response:
            body = await response.read()
            self.contract.check(
                method, path, response.status, response.content_type, body, response.headers
            )
            if response.content_type.endswith("json") and body:
                return response.status, orjson.loads(body)
            return response.status, body

    async def store(self, store_id: str) -> dict[str, Any]:
        _, body = await self.call("GET", "/api/chain/stores")
        return next(s for s in body["stores"] if s["store_id"] == store_id)

    async def stats(self, store_id: str) -> dict[str, Any]:
        _, body = await self.call("GET", "/api/chain/events/stats")
        return next(s for s in body["stores"] if s["store_id"] == store_id)


CentralFactory = Callable[..., Awaitable[Central]]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def read_model(request: pytest.FixtureRequest) -> Iterator[str]:
    """`central.db` for one backend: "" for SQLite (the data dir's file), a new database
    of the test's own for PostgreSQL."""
    if request.param == "sqlite":
        yield ""
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.database()
    try:
        yield url
    finally:
        server.drop(url)


@pytest.fixture
def bare_model(tmp_path: Path, read_model: str) -> Iterator[SqlReadModel]:
    """The read model alone, on the test's backend (no hub, no API)."""
    model = open_read_model(read_model, tmp_path / "central", zoneinfo.ZoneInfo("UTC"))
    try:
        yield model
    finally:
        model.close_now()


@pytest.fixture
async def make_central(tmp_path: Path, read_model: str) -> AsyncIterator[CentralFactory]:
    started: list[Central] = []
    http = aiohttp.ClientSession()

    async def build(*overrides: str, data_dir: Path | None = None) -> Central:
        backend = [f"central.db={read_model}"] if read_model else []
        config = central_config(data_dir or tmp_path / "central", *backend, *overrides)
        service = CentralService(config, environ=ENVIRON)
        await service.start()
        assert service.app is not None
        from autogrocery.api.core import DOCUMENT

        contract = Contract(orjson.loads(service.app[DOCUMENT].encoded()))
        started.append(Central(service, config, tmp_path, contract, http))
        return started[-1]

    try:
        yield build
    finally:
        for central in started:
            for leaf in central.leaves:
                await leaf.down()
            await central.service.stop()
        await http.close()


@pytest.fixture
async def central(make_central: CentralFactory) -> Central:
    return await make_central()

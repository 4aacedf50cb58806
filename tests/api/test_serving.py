"""The server as `autogrocery run` serves it (`api.serving.serve`), against clients that
are slow, too many, oversized or gone: raw sockets on 127.0.0.1, real actors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest

from autogrocery.api import create_app, serve
from autogrocery.domain.models import OrderKind
from autogrocery.service.system import System
from autogrocery.wiring import start_system
from tests.api.conftest import ADMIN_PASSWORD, ENVIRON, TRUCK_PASSWORD
from tests.conftest import ConfigFactory
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(60)


@dataclass
class Served:
    url: str
    port: int
    system: System

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, bytes]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url + path, **kwargs) as response,
        ):
            return response.status, await response.read()


ServedFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def make_served(make_config: ConfigFactory) -> AsyncIterator[ServedFactory]:
    stops: list[Callable[[], Awaitable[None]]] = []

    async def build(*overrides: str) -> Served:
        config = make_config("auth.bcrypt_cost=4", *overrides)
        system = await start_system(config)
        stops.append(system.stop)
        runner, url = await serve(create_app(config, system, environ=ENVIRON))
        stops.append(runner.cleanup)
        return Served(url, int(url.rsplit(":", 1)[1]), system)

    yield build
    for stop in reversed(stops):
        await stop()


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    """True once the server hung up (end of file or a reset) within `within` seconds."""
    try:
        async with asyncio.timeout(within):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


async def test_a_client_that_trickles_its_headers_is_cut_off(make_served: ServedFactory) -> None:
    served = await make_served("api.header_timeout=0.5")
    reader, writer = await served.connect()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: store\r\n")

    async def trickle() -> None:
        for i in range(100):  # a header byte every 50 ms, never the blank line
            writer.write(b"X-Slow-%d: 1\r\n" % i)
            await asyncio.sleep(0.05)

    dripping = asyncio.create_task(trickle())
    try:
        assert await closed_by_server(reader, within=4.0)
    finally:
        dripping.cancel()
        writer.close()
    assert await served.get("/healthz") == (200, b'{"status":"ok"}')  # others still served


COMPAT = ("compat.original=true", "compat.truck_without_auth=true")


@pytest.mark.parametrize(
    ("path", "media", "overrides"),
    [
        ("/api/auth/login", "application/problem+json", ()),
        ("/api/client/login", "text/plain", COMPAT),  # the original clients' layer too
    ],
)
async def test_a_body_that_does_not_arrive_gets_408(
    make_served: ServedFactory, path: str, media: str, overrides: tuple[str, ...]
) -> None:
    served = await make_served("api.body_timeout=0.5", *overrides)
    reader, writer = await served.connect()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: store\r\nContent-Type: application/json\r\n".encode()
        + b"Content-Length: 100\r\n\r\n"
        + b'{"username"'
    )
    try:
        async with asyncio.timeout(4.0):
            status, headers, body = parse(await reader.read(65536))
    finally:
        writer.close()
    assert status == 408
    assert headers["content-type"].startswith(media)
    assert b"did not arrive within 0.5 s" in body


async def test_connections_past_the_cap_get_503_a_log_line_and_a_metric(
    make_served: ServedFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    served = await make_served("api.max_connections=4", "api.header_timeout=1.0")
    slow = [await served.connect() for _ in range(4)]
    for _, writer in slow:
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # and nothing more: they hold a slot each
    reader, writer = await served.connect()
    writer.write(b"GET /api/catalog HTTP/1.1\r\nHost: store\r\n\r\n")
    async with asyncio.timeout(4.0):
        answer = await reader.read()  # the whole answer, then the server hangs up
    writer.close()
    status, headers, body = parse(answer)
    assert status == 503
    assert int(headers["retry-after"]) >= 1
    assert orjson.loads(body)["status"] == 503
    # A probe still gets in past the cap: its one request is answered, then it is closed.
    reader, writer = await served.connect()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: store\r\n\r\n")
    async with asyncio.timeout(4.0):
        answer = await reader.read()
    writer.close()
    assert parse(answer)[0] == 200
    warned = [r for r in caplog.records if "connection limit" in r.getMessage()]
    assert [r.levelno for r in warned] == [logging.WARNING]
    for slow_reader, slow_writer in slow:  # the header timeout frees their slots
        assert await closed_by_server(slow_reader, within=5.0)
        slow_writer.close()

    async def scraped() -> str | None:
        status, text = await served.get("/metrics")
        return text.decode() if status == 200 else None

    metrics = await eventually(scraped, within=10)
    assert "autogrocery_http_connections_refused_total 1.0" in metrics
    assert "autogrocery_http_connections_limit 4.0" in metrics
    assert "autogrocery_http_connections_priority_total 1.0" in metrics


async def test_an_operator_gets_in_past_the_cap_and_a_device_does_not(
    make_served: ServedFactory,
) -> None:
    served = await make_served("api.max_connections=2", "api.header_timeout=5.0")

    async def token(username: str, password: str) -> bytes:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                served.url + "/api/auth/login", json={"username": username, "password": password}
            ) as response,
        ):
            assert response.status == 200
            return str((await response.json())["access_token"]).encode()

    operator = await token("admin", ADMIN_PASSWORD)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            served.url + "/api/auth/register",
            json={"username": "fridge-9", "password": "fridge-pass-9"},
        ) as response,
    ):
        assert response.status == 201
    device = await token("fridge-9", "fridge-pass-9")
    hogs = [await served.connect() for _ in range(2)]  # idle: they hold both slots

    async def ask(path: bytes, bearer: bytes) -> int:
        reader, writer = await served.connect()
        writer.write(
            b"GET %s HTTP/1.1\r\nHost: s\r\nAuthorization: Bearer %s\r\n\r\n" % (path, bearer)
        )
        async with asyncio.timeout(4.0):
            answer = await reader.read()  # one request, then the server hangs up
        writer.close()
        return parse(answer)[0]

    assert await ask(b"/api/ops/robots", operator) == 200
    assert await ask(b"/api/catalog", device) == 503
    assert await ask(b"/api/catalog", b"not-a-token") == 503
    for _, writer in hogs:
        writer.close()


SECRET = b"s3cr3t-" * 1400  # about 9.8 kB: over the 8 kB limits


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /api/catalog?q=" + SECRET + b" HTTP/1.1\r\nHost: store\r\n\r\n", 414),
        (b"GET /api/catalog HTTP/1.1\r\nHost: store\r\nX-Token: " + SECRET + b"\r\n\r\n", 431),
        (
            b"GET /api/catalog HTTP/1.1\r\nHost: store\r\n"
            + b"".join(b"X-Many-%d: s3cr3t\r\n" % i for i in range(200))
            + b"\r\n",
            431,
        ),
        (b"GET /api/catalog HTTP/1.1\r\nHost: store\r\nBad Header s3cr3t\r\n\r\n", 400),
    ],
    ids=["long-url", "long-header", "many-headers", "malformed"],
)
async def test_oversized_or_malformed_requests_get_problem_json_that_echoes_nothing(
    make_served: ServedFactory,
    caplog: pytest.LogCaptureFixture,
    request_bytes: bytes,
    status: int,
) -> None:
    served = await make_served()
    caplog.set_level(logging.INFO)
    reader, writer = await served.connect()
    writer.write(request_bytes)
    async with asyncio.timeout(4.0):
        answer = await reader.read()
    writer.close()
    got, headers, body = parse(answer)
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    problem = orjson.loads(body)
    assert problem["status"] == status
    assert b"s3cr3t" not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert await served.get("/healthz") == (200, b'{"status":"ok"}')


@pytest.mark.parametrize("path", ["/api/restocks", "/api/truck/restock"])
async def test_a_client_hanging_up_mid_body_is_one_info_line(
    make_served: ServedFactory, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    served = await make_served(*COMPAT)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            served.url + "/api/auth/login",
            json={"username": "truck-1", "password": TRUCK_PASSWORD},
        ) as response,
    ):
        token = (await response.json())["access_token"]
    caplog.set_level(logging.INFO)
    caplog.clear()
    _, writer = await served.connect()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: store\r\nContent-Type: application/json\r\n".encode()
        + b"Authorization: Bearer "
        + token.encode()
        + b"\r\nContent-Length: 500\r\n\r\n"
        + b'{"items": [{"sku": "BRD-001", '
    )
    await writer.drain()
    writer.close()  # gone, mid-body

    async def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if path in r.getMessage()]

    await eventually(logged, within=10)  # the access line: the last one a request logs
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert len(await logged()) == 1
    (line,) = await logged()
    assert line.levelno == logging.INFO
    assert " 500" not in line.getMessage()
    restocks, _ = await served.system.list_orders(limit=10, kind=OrderKind.RESTOCK)
    assert restocks == []  # and nothing was created

"""Issue 21's connection-hog drill: one client address opens more idle connections than
the store serves in all. It used to hold all of them for the header timeout, and every
other client, liveness probes included, got 503. Now it holds its own share
(`api.max_connections_per_client`) and everyone else gets in; a probe gets in even from
the hog's own address; one warning names the address; a metric counts the refusals."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from autogrocery.api.gate import REFUSALS_WAITING
from tests.e2e.server import ADMIN_PASSWORD, start_server, stop_quietly
from tests.e2e.stalled import connect, device, metric, order, token_of

pytestmark = pytest.mark.timeout(120)

HOG = "127.0.0.2"  # another loopback address: the hog is not the test's own client
CONNECTIONS = 1050  # more than api.max_connections (1000, the default)


def ask(url: str, request: bytes, source: str | None = None) -> bytes:
    """One request on a new connection; the answer's head and what came with it."""
    sock = connect(url, source)
    try:
        sock.sendall(request)
        return sock.recv(65536)
    finally:
        sock.close()


async def test_one_client_hogging_connections_locks_nobody_else_out(tmp_path: Path) -> None:
    server = start_server(tmp_path / "store")  # the default limits
    hog = []
    loop = asyncio.get_running_loop()
    try:
        for _ in range(CONNECTIONS):  # idle: they never send a byte
            hog.append(await loop.run_in_executor(None, connect, server.url, HOG))
        async with aiohttp.ClientSession() as http:
            started = time.monotonic()
            async with http.get(f"{server.url}/healthz") as response:
                assert response.status == 200  # a liveness probe from elsewhere
            assert time.monotonic() - started < 2.0
            fridge = await device(http, server.url)  # another client orders
            await order(http, server.url, fridge, "BRD-001")
            token = await token_of(http, server.url, "admin", ADMIN_PASSWORD)
            operator = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{server.url}/api/ops/robots", headers=operator) as response:
                assert response.status == 200

            # The hog itself: refused at once, with Retry-After; but its probe gets in.
            get = b"GET %s HTTP/1.1\r\nHost: store\r\n\r\n"
            started = time.monotonic()
            answer = await loop.run_in_executor(None, ask, server.url, get % b"/api/catalog", HOG)
            assert answer.startswith(b"HTTP/1.1 503"), answer[:100]
            assert b"Retry-After: 1" in answer
            assert time.monotonic() - started < 2.0
            answer = await loop.run_in_executor(None, ask, server.url, get % b"/healthz", HOG)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:100]

            refused = await metric(
                http, server.url, "autogrocery_http_connections_refused_per_client_total"
            )
            assert refused >= CONNECTIONS - 100 - REFUSALS_WAITING  # some still being read
            assert await metric(http, server.url, "autogrocery_http_connections") < 200
        assert len(server.logged(f"client {HOG} holds")) == 1  # one line, not one per refusal
    finally:
        for sock in hog:
            sock.close()
        stop_quietly(server)

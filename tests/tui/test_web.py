"""`autogrocery dashboard --web`: the dashboard served to browsers by textual-serve,
behind the store's operator login. A real store and a real web server, each a
subprocess; the test is the browser, over HTTP and the page's WebSocket."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.e2e.server import ADMIN_PASSWORD, TRUCK_PASSWORD, Server, start_server, stop_quietly
from tests.tui.test_cli import environment

pytestmark = pytest.mark.timeout(90)

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


@dataclass
class Web:
    process: subprocess.Popen[str]
    url: str


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "store"
    data.mkdir()
    server = start_server(data)
    yield server
    stop_quietly(server)


@pytest.fixture
def web(tmp_path: Path, store: Server) -> Iterator[Web]:
    args = ["dashboard", "--web", "--port", "0", "--url", store.url]
    args += ["--data-dir", str(tmp_path / "web")]
    process = subprocess.Popen(
        [sys.executable, "-m", "autogrocery", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment() | {"XDG_CONFIG_HOME": str(tmp_path / "config")},
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"served on (http://127\.0\.0\.1:\d+)/", line)
    assert found, f"no address: {line!r}"
    yield Web(process, found.group(1))
    if process.poll() is None:
        process.kill()
    process.wait(10)
    process.stdout.close()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield http


async def log_in(http: aiohttp.ClientSession, web: Web, user: str, password: str) -> int:
    form = {"username": user, "password": password}
    async with http.post(f"{web.url}/login", data=form, allow_redirects=False) as response:
        await response.read()
        return response.status


def screen_text(frames: bytes) -> str:
    """What the terminal frames draw, without the escape codes."""
    return ANSI.sub(b"", frames).decode("utf-8", "replace")


async def test_the_page_asks_for_an_operator_login(web: Web, browser) -> None:  # type: ignore[no-untyped-def]
    async with browser.get(f"{web.url}/", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/login"
    async with browser.get(f"{web.url}/login") as response:
        assert response.status == 200
        assert 'name="password"' in await response.text()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await browser.ws_connect(f"{web.url}/ws")
    assert refused.value.status == 401

    assert await log_in(browser, web, "admin", "not-the-password") == 401
    assert await log_in(browser, web, "truck-1", TRUCK_PASSWORD) == 403  # a truck
    async with browser.post(
        f"{web.url}/login", data={"username": "truck-1", "password": TRUCK_PASSWORD}
    ) as response:
        assert "is not an operator" in await response.text()
    async with browser.get(f"{web.url}/", allow_redirects=False) as response:
        assert response.status == 303  # still not logged in


async def test_an_operator_gets_the_dashboard_over_the_websocket(web: Web, browser) -> None:  # type: ignore[no-untyped-def]
    async with browser.post(
        f"{web.url}/login",
        data={"username": "admin", "password": ADMIN_PASSWORD},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
    async with browser.get(f"{web.url}/") as response:
        assert response.status == 200
        page = await response.text()
    host = web.url.split("://", 1)[1]
    assert f'data-session-websocket-url="ws://{host}/ws"' in page
    async with browser.get(f"{web.url}/static/js/textual.js") as response:
        assert response.status == 200

    # another site's page may not open a session with the operator's cookie
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await browser.ws_connect(f"{web.url}/ws", origin="http://evil.example")
    assert refused.value.status == 403

    frames = b""
    async with browser.ws_connect(
        f"{web.url}/ws?width=120&height=36", origin=web.url, heartbeat=5
    ) as ws:
        wanted = ("1 Orders", "2 Inventory", "3 Robots", "4 Analytics", "5 Alerts", "● live")
        deadline = time.monotonic() + 40
        while not all(w in screen_text(frames) for w in wanted):
            assert time.monotonic() < deadline, screen_text(frames)[-2000:]
            message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            if message.type == aiohttp.WSMsgType.BINARY:
                frames += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the session ended: {message}\n{screen_text(frames)}")
        assert "5/5 robots online" in screen_text(frames)
        await ws.send_str(orjson.dumps(["stdin", "q"]).decode())  # quit: the session ends
        while True:
            message = await ws.receive(timeout=20)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break

    web.process.send_signal(signal.SIGTERM)
    assert web.process.wait(15) == 0


async def test_a_store_that_is_down_is_a_503_that_says_when_to_retry(
    web: Web, store: Server, browser: aiohttp.ClientSession
) -> None:
    stop_quietly(store)
    form = {"username": "admin", "password": ADMIN_PASSWORD}
    async with browser.post(f"{web.url}/login", data=form, allow_redirects=False) as response:
        page = await response.text()
        assert response.status == 503
        assert int(response.headers["Retry-After"]) >= 1
    assert "unreachable" in page

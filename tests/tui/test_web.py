"""`autogrocery dashboard --web`: the dashboard served to browsers by textual-serve,
behind the store's operator login. A real store and a real web server, each a
subprocess; the test is the browser, over HTTP and the page's WebSocket."""

from __future__ import annotations

import re
import signal
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import pytest
import textual_serve

from autogrocery.tui.app import DashboardApp
from tests.e2e.server import ADMIN_PASSWORD, TRUCK_PASSWORD, Server, start_server, stop_quietly
from tests.tui import fixed
from tests.tui import head_office as hq
from tests.tui.conftest import until
from tests.tui.test_cli import environment

pytestmark = pytest.mark.timeout(90)

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


@dataclass
class Web:
    process: subprocess.Popen[str]
    url: str
    log: Path  # its stderr


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "store"
    data.mkdir()
    server = start_server(data)
    yield server
    stop_quietly(server)


@contextmanager
def serving(tmp_path: Path, url: str) -> Iterator[Web]:
    """`dashboard --web` in front of `url` until the block ends."""
    args = ["dashboard", "--web", "--port", "0", "--url", url]
    args += ["--data-dir", str(tmp_path / "web")]
    log = tmp_path / "web-stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "autogrocery", *args],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=environment() | {"XDG_CONFIG_HOME": str(tmp_path / "config")},
            text=True,
        )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        found = re.search(r"served on (http://127\.0\.0\.1:\d+)/", line)
        assert found, f"no address: {line!r}; {log.read_text()[-2000:]}"
        yield Web(process, found.group(1), log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        process.stdout.close()


@pytest.fixture
def web(tmp_path: Path, store: Server) -> Iterator[Web]:
    with serving(tmp_path, store.url) as served:
        yield served


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield http


async def log_in(http: aiohttp.ClientSession, web: Web, user: str, password: str) -> int:
    form = {"username": user, "password": password}
    async with http.post(f"{web.url}/login", data=form, allow_redirects=False) as response:
        await response.read()
        return response.status


def glyphs(font: Path) -> set[int]:
    """The code points a TrueType font draws (its cmap: formats 4 and 12)."""
    data = font.read_bytes()
    tables = {
        data[12 + 16 * i : 16 + 16 * i]: struct.unpack(">I", data[20 + 16 * i : 24 + 16 * i])[0]
        for i in range(struct.unpack(">H", data[4:6])[0])
    }
    cmap, found = tables[b"cmap"], set()
    for i in range(struct.unpack(">H", data[cmap + 2 : cmap + 4])[0]):
        start = cmap + struct.unpack(">I", data[cmap + 8 + 8 * i : cmap + 12 + 8 * i])[0]
        kind = struct.unpack(">H", data[start : start + 2])[0]
        if kind == 4:
            count = struct.unpack(">H", data[start + 6 : start + 8])[0] // 2
            ends = struct.unpack(f">{count}H", data[start + 14 : start + 14 + 2 * count])
            firsts = struct.unpack(
                f">{count}H", data[start + 16 + 2 * count : start + 16 + 4 * count]
            )
            for first, end in zip(firsts, ends, strict=True):
                found.update(range(first, end + 1))
        elif kind == 12:
            for group in range(struct.unpack(">I", data[start + 12 : start + 16])[0]):
                at = start + 16 + 12 * group
                first, end = struct.unpack(">II", data[at : at + 8])
                found.update(range(first, end + 1))
    return found


async def test_the_header_icon_is_a_glyph_of_the_web_dashboards_font() -> None:
    """A glyph the browser's font lacks is an empty box (Textual's ⭘ was)."""
    fonts = Path(textual_serve.__file__).parent / "static" / "fonts"
    drawn = glyphs(fonts / "RobotoMono-VariableFont_wght.ttf")
    dashboard = DashboardApp(None, model=fixed.model(), sample_interval=3600.0)
    async with dashboard.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        icon = str(dashboard.query_one("HeaderIcon").icon)  # type: ignore[attr-defined]
    assert icon.strip()
    assert all(ord(glyph) in drawn for glyph in icon), icon


async def test_the_web_dashboard_logs_json_lines_as_the_store_does(
    web: Web, browser: aiohttp.ClientSession
) -> None:
    assert await log_in(browser, web, "admin", ADMIN_PASSWORD) == 303
    web.process.send_signal(signal.SIGTERM)
    assert web.process.wait(15) == 0
    lines = [line for line in web.log.read_text().splitlines() if line.strip()]
    entries = [orjson.loads(line) for line in lines]  # each a JSON line (it logged text)
    assert all({"at", "level", "logger", "msg"} <= set(entry) for entry in entries), entries
    assert any(entry.get("url") == web.url for entry in entries), entries
    assert any(entry["msg"].startswith("operator admin logged in") for entry in entries)


async def session_until(
    browser: aiohttp.ClientSession, web: Web, wanted: tuple[str, ...], within: float = 40.0
) -> str:
    """Open the page's session (its WebSocket) as a logged-in browser, read its frames
    until they show everything `wanted`, quit the dashboard (q) and return what showed."""
    frames = b""
    async with browser.ws_connect(
        f"{web.url}/ws?width=120&height=36", origin=web.url, heartbeat=5
    ) as ws:
        deadline = time.monotonic() + within
        while not all(w in screen_text(frames) for w in wanted):
            assert time.monotonic() < deadline, screen_text(frames)[-2000:]
            message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            if message.type == aiohttp.WSMsgType.BINARY:
                frames += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the session ended: {message}\n{screen_text(frames)}")
        await ws.send_str(orjson.dumps(["stdin", "q"]).decode())  # quit: the session ends
        while True:
            message = await ws.receive(timeout=20)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
    return screen_text(frames)


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

    wanted = ("1 Orders", "2 Inventory", "3 Robots", "4 Analytics", "5 Alerts", "● live")
    assert "5/5 robots online" in await session_until(browser, web, wanted)

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


async def test_a_head_offices_dashboard_is_served_too(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    with hq.head_office(tmp_path / "hq", "north") as office, serving(tmp_path, office.url) as web:
        assert await log_in(browser, web, "admin", "not-the-password") == 401
        assert await log_in(browser, web, "admin", hq.ADMIN_PASSWORD) == 303
        wanted = ("1 Stores", "2 Stock", "3 Transfers", "4 Sales", "● live", "0/1 stores up")
        screen = await session_until(browser, web, wanted)
        assert "north" in screen
        assert "1 Orders" not in screen
        web.process.send_signal(signal.SIGTERM)
        assert web.process.wait(15) == 0

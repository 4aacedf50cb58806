"""`autogrocery run` with the dashboard in a terminal, headless with the simulator, and
`autogrocery dashboard --url` attached to a running store."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.e2e.server import ADMIN_PASSWORD, start_server, stop_quietly
from tests.tui import head_office as hq
from tests.tui.terminal import Terminal
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return env | {"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD}


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def test_run_in_a_terminal_opens_the_dashboard_and_quits_cleanly(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    data = tmp_path / "data"
    args = ["run", "--data-dir", str(data), "--port", "0", "-o", "auth.bcrypt_cost=4"]
    args += ["-o", "robots.pick_time=0.01", "--simulate", "20"]
    terminal = Terminal(args, tmp_path, environment(), (160, 50))
    terminals.append(terminal)
    terminal.wait_for("● live")
    terminal.wait_for("COMPLETED")  # the simulator's orders, completed by the robots
    terminal.type("q")
    assert terminal.wait_exit() == 0
    log = data / "autogrocery.log"
    assert f"the log is in {log}".encode() in terminal.output
    text = log.read_text()
    assert "running; API on" in text
    assert "simulating 20.0 orders/s" in text
    accounts = data / "dashboard-accounts.json"
    assert accounts.stat().st_mode & 0o777 == 0o600
    assert orjson.loads(accounts.read_bytes())["operator"][0] == "dashboard"
    # the truck password the store generated is shown at start, before the dashboard
    # opens (so a kill -9 cannot lose it), and stays above it once the dashboard quits
    shown = terminal.output.find(b"created account truck-1 with password")
    assert 0 <= shown < terminal.output.find(b"\x1b[?1049h")  # the dashboard's own screen


def test_run_without_a_terminal_is_headless_and_simulates_when_asked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ["run", "--data-dir", str(data), "--port", "0", "-o", "auth.bcrypt_cost=4"]
    args += ["-o", "robots.pick_time=0", "--simulate", "30"]
    process = subprocess.Popen(
        [sys.executable, "-m", "autogrocery", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment(),
        text=True,
    )
    try:
        assert process.stderr is not None
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            line = process.stderr.readline()
            assert line, "exited before listening"
            if not line.startswith("{"):  # new passwords, shown to the operator, never logged
                continue
            url = orjson.loads(line).get("url", "")  # JSON lines: headless
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep it flowing
        completed = asyncio.run(_completed_orders(url, within=30))
        assert completed > 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        assert not (data / "autogrocery.log").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


async def _completed_orders(url: str, within: float) -> int:
    async with aiohttp.ClientSession() as http:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        async with http.post(f"{url}/api/auth/login", json=login) as response:
            token = (await response.json())["access_token"]

        async def completed() -> int:
            async with http.get(
                f"{url}/api/ops/analytics", headers={"Authorization": f"Bearer {token}"}
            ) as response:
                return int((await response.json())["customer"]["completed"])

        return await eventually(
            completed, within=within, what="a completed order in /api/ops/analytics", every=0.2
        )


def test_dashboard_attaches_to_a_running_store(tmp_path: Path, terminals: list[Terminal]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server = start_server(data)
    try:
        args = ["dashboard", "--url", server.url, "--data-dir", str(tmp_path / "client")]
        terminal = Terminal(args, tmp_path, environment(), (140, 40))
        terminals.append(terminal)
        terminal.wait_for("● live")
        terminal.wait_for("5/5 robots online")
        terminal.type("q")
        assert terminal.wait_exit() == 0
        assert b"the dashboard's log is in" in terminal.output

        wrong = Terminal(
            args,
            tmp_path,
            environment() | {"AUTOGROCERY_ADMIN_PASSWORD": "not-the-password"},
            (140, 40),
        )
        terminals.append(wrong)
        assert wrong.wait_exit() == 2
        assert b"401 Unauthorized" in wrong.output
    finally:
        stop_quietly(server)


def test_dashboard_at_a_head_office_opens_the_chains_dashboard(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    from autogrocery.probe import Kind, probe

    with hq.head_office(tmp_path / "hq", "north") as office:
        assert probe(office.url).kind is Kind.HEAD_OFFICE  # its /healthz says so
        args = ["dashboard", "--url", office.url, "--data-dir", str(tmp_path / "client")]
        terminal = Terminal(args, tmp_path, hq.environment(), (120, 36))
        terminals.append(terminal)
        for shown in ("1 Stores", "4 Sales", "● live", "0/1 stores up", "north", "never"):
            terminal.wait_for(shown)
        assert b"1 Orders" not in terminal.output  # not the store's dashboard
        terminal.type("q")
        assert terminal.wait_exit() == 0
        assert b"the dashboard's log is in" in terminal.output

        wrong = Terminal(
            args,
            tmp_path,
            hq.environment() | {"AUTOGROCERY_ADMIN_PASSWORD": "not-the-password"},
            (120, 36),
        )
        terminals.append(wrong)
        assert wrong.wait_exit() == 2
        assert b"401 Unauthorized" in wrong.output


@pytest.mark.parametrize("listening", [False, True], ids=["nothing", "not-a-store"])
def test_dashboard_at_a_url_where_no_store_answers_says_so_before_asking_for_a_password(
    tmp_path: Path, terminals: list[Terminal], listening: bool
) -> None:
    with socket.socket() as held:  # bound, so nothing else takes the port meanwhile
        held.bind(("127.0.0.1", 0))
        if listening:
            held.listen()  # it takes connections and never answers
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        env = {k: v for k, v in environment().items() if not k.endswith("_PASSWORD")}
        args = ["dashboard", "--url", url, "--data-dir", str(tmp_path / "client")]
        terminal = Terminal(args, tmp_path, env, (100, 30))
        terminals.append(terminal)
        assert terminal.wait_exit(within=15) == 2
    said = terminal.output.decode(errors="replace")
    assert "password" not in said.lower(), said
    lines = [line for line in said.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    if listening:
        assert f"autogrocery: {url} does not answer as an autogrocery store" in lines[0]
    else:
        assert lines[0].startswith(f"autogrocery: nothing answers at {url} ("), lines
        assert "`autogrocery run`" in lines[0]


def test_dashboard_needs_a_terminal(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autogrocery", "dashboard", "--url", "http://127.0.0.1:9"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(),
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "needs an interactive terminal" in result.stderr

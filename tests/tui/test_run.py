"""`autogrocery run` in a terminal is two processes: the store (actors + API, headless,
logging to a file) and `autogrocery dashboard --url` on the terminal. q, Ctrl-C and a
SIGTERM to the store each stop both, cleanly; the dashboard's login never shows on its
command line or in its environment."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.tui.terminal import Terminal
from tests.tui.test_cli import environment
from tests.waiting import until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def start(tmp_path: Path, terminals: list[Terminal]) -> tuple[Terminal, Path]:
    data = tmp_path / "data"
    args = ["run", "--data-dir", str(data), "--port", "0", "-o", "auth.bcrypt_cost=4"]
    args += ["-o", "robots.pick_time=0.01", "-o", "log.format=text", "--simulate", "20"]
    terminal = Terminal(args, tmp_path, environment(), (100, 30))
    terminals.append(terminal)
    terminal.wait_for("● live")
    terminal.wait_for("COMPLETED")  # the simulator's orders, completed by the robots
    return terminal, data


def dashboard_pid(log: Path) -> int:
    """The dashboard process, as the store logged it when it started it."""

    def logged() -> int | None:
        for line in log.read_text().splitlines():
            if "dashboard started (pid " in line:
                return int(line.rsplit("(pid ", 1)[1].rstrip(")"))
        return None

    return until(logged, within=10, what=f"the dashboard's pid in {log}", every=0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def stopped_cleanly(terminal: Terminal, data: Path, pid: int) -> None:
    assert terminal.wait_exit() == 0
    log = data / "autogrocery.log"
    assert f"the log is in {log}".encode() in terminal.output
    assert b"the dashboard's log is in" in terminal.output
    text = log.read_text()
    assert "shutting down" in text
    assert "store stopped" in text
    assert " ERROR " not in text
    assert " WARNING " not in text  # a clean stop: no robot "offline; re-dispatching"
    # what an operator reads later: no line per request or per order state change
    assert " autogrocery.access: " not in text
    assert "PREVIEWED -> PROCESSING" not in text
    # the store waited for it; a zombie is reaped by now
    until(lambda: not alive(pid), within=5, what="the dashboard process to end", every=0.05)


@pytest.mark.parametrize(("key", "name"), [("q", "q"), ("\x03", "ctrl+c")])
def test_run_is_two_processes_and_a_key_in_the_dashboard_stops_both(
    tmp_path: Path, terminals: list[Terminal], key: str, name: str
) -> None:
    terminal, data = start(tmp_path, terminals)
    pid = dashboard_pid(data / "autogrocery.log")
    assert pid != terminal.process.pid
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert argv[argv.index(b"-m") + 1 : argv.index(b"-m") + 3] == [b"autogrocery", b"dashboard"]
    secrets = orjson.loads((data / "dashboard-accounts.json").read_bytes())
    password = secrets["operator"][1].encode()
    assert password not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert password not in Path(f"/proc/{pid}/environ").read_bytes()
    terminal.type(key)
    stopped_cleanly(terminal, data, pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])  # SIGHUP: window closed
def test_a_signal_to_the_store_stops_the_dashboard_first(
    tmp_path: Path, terminals: list[Terminal], sig: signal.Signals
) -> None:
    terminal, data = start(tmp_path, terminals)
    pid = dashboard_pid(data / "autogrocery.log")
    terminal.process.send_signal(sig)
    stopped_cleanly(terminal, data, pid)
    assert "stopping the dashboard" in (data / "autogrocery.log").read_text()
    assert b"\x1b[?1049l" in terminal.output  # the dashboard gave the screen back

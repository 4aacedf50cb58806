"""Ctrl-C at any moment of `autogrocery run`'s start, as a terminal sends it (SIGINT to
every process of its foreground group: the store, the simulator, the dashboard): the
command ends cleanly, with no traceback from any of them, and each line it prints on
the way out on a line of its own."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autogrocery.cli.run_dashboard import spawn_quiet
from tests.tui.terminal import Terminal
from tests.tui.test_cli import environment

pytestmark = pytest.mark.timeout(90)

ESCAPES = re.compile(  # what a terminal draws with: CSI, OSC, charset and keypad modes
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b[=>78]"
)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def children(pid: int) -> dict[int, bytes]:
    """`pid`'s child processes and their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
    return found


def loaded(pid: int, library: bytes) -> bool:
    """Whether the process has mapped a library whose path holds `library`."""
    try:
        return library in Path(f"/proc/{pid}/maps").read_bytes()
    except OSError:  # gone meanwhile
        return False


def loading(terminal: Terminal, data: Path) -> bool:
    """The command loads its modules (orjson, among the first)."""
    return loaded(terminal.process.pid, b"orjson")


def opening(terminal: Terminal, data: Path) -> bool:
    """The store opens its database (its actors start)."""
    return (data / "autogrocery.db").exists()


def simulator(terminal: Terminal, data: Path) -> bool:
    """The simulator's process loads aiohttp (multidict, half-way through)."""
    return any(
        b"spawn_main" in argv and loaded(pid, b"multidict")
        for pid, argv in children(terminal.process.pid).items()
    )


def dashboard(terminal: Terminal, data: Path) -> bool:
    """The dashboard's process has started."""
    return any(b"dashboard\0" in argv for argv in children(terminal.process.pid).values())


def drawn(terminal: Terminal, data: Path) -> bool:
    """The dashboard took the terminal."""
    return b"\x1b[?1049h" in terminal.output


def exit_lines(output: bytes) -> list[str]:
    """What the command printed outside the dashboard's screen, line by line; every
    line ends in CR LF (a line ending in a bare LF is a terminal left raw)."""
    before, _, _ = output.partition(b"\x1b[?1049h")
    after = output.rsplit(b"\x1b[?1049l", 1)[-1] if b"\x1b[?1049l" in output else b""
    text = ESCAPES.sub(b"", before + after).decode(errors="replace")
    assert "\n" not in text.replace("\r\n", ""), repr(text)
    return [line for line in text.split("\r\n") if line.strip()]


@pytest.mark.parametrize("moment", [loading, opening, simulator, dashboard, drawn])
def test_ctrl_c_during_the_start_of_run_ends_it_cleanly(
    tmp_path: Path, terminals: list[Terminal], moment: Callable[[Terminal, Path], bool]
) -> None:
    data = tmp_path / "data"
    args = ["run", "--data-dir", str(data), "--port", "0", "-o", "auth.bcrypt_cost=4"]
    args += ["-o", "robots.pick_time=0.01", "--simulate", "20"]
    terminal = Terminal(args, tmp_path, environment(), (100, 30))
    terminals.append(terminal)
    deadline = time.monotonic() + 30
    while not moment(terminal, data):
        assert terminal.process.poll() is None, terminal.output[-2000:]
        assert time.monotonic() < deadline, f"never {moment.__doc__}"
        terminal.read(0.002)
    os.killpg(terminal.process.pid, signal.SIGINT)  # as the terminal sends a Ctrl-C

    code = terminal.wait_exit(within=30)
    said = terminal.output.decode(errors="replace")
    assert "Traceback" not in said, said[-3000:]
    assert "KeyboardInterrupt" not in said, said[-3000:]
    assert code in (0, 130), (code, said[-2000:])
    lines = exit_lines(terminal.output)
    for line in lines:  # one message a line, none run into another
        if line.startswith("  export AUTOGROCERY_"):  # the first passwords, for a shell
            assert "autogrocery: " not in line, lines
            continue
        assert line.startswith("autogrocery: "), lines
        assert line.count("autogrocery: ") == 1, lines
    if moment is not loading:
        assert f"autogrocery: the log is in {data / 'autogrocery.log'}" in lines


def test_run_starts_its_dashboard_with_ctrl_c_held_until_it_can_ignore_it(
    tmp_path: Path,
) -> None:
    """The dashboard's process starts with SIGINT blocked (it unblocks it once it
    ignores it). Spawned as asyncio does on uvloop (libuv resets the child's signal
    mask), a Ctrl-C while it imported was a traceback, 1 start in 6 under load."""
    read, write = os.pipe()
    try:
        child = spawn_quiet([sys.executable, "-c", "import time; time.sleep(30)"], write)
    finally:
        os.close(write)
        os.close(read)
    try:
        status = Path(f"/proc/{child.pid}/status").read_text()
        blocked = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.M)[1], 16)  # type: ignore[index]
        assert blocked & (1 << (signal.SIGINT - 1)), "SIGINT is not blocked in the child"
    finally:
        child.kill()
        child.wait(5)

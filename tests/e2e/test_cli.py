"""The `autogrocery` command as a user runs it: real subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.timeout(60)


def autogrocery(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autogrocery", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")},
    )


def test_version_and_help(tmp_path: Path) -> None:
    version = metadata.version("autogrocery")  # one version: the package's
    assert autogrocery("--version", cwd=tmp_path).stdout == f"autogrocery {version}\n"
    assert "run" in autogrocery("--help", cwd=tmp_path).stdout


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["-o", "robots.per_isle=2"], "robots.per_isle"),
        (["-o", "robots.per_aisle=many"], "robots.per_aisle"),
        (["-o", "orders.reservation_ttl=-1"], "orders.reservation_ttl"),
    ],
)
def test_a_bad_setting_fails_in_one_line_naming_the_key(
    tmp_path: Path, args: list[str], key: str
) -> None:
    result = autogrocery("run", "--headless", "--data-dir", str(tmp_path), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert key in result.stderr
    assert not (tmp_path / "autogrocery.db").exists()


def test_config_show_prints_the_effective_settings(tmp_path: Path) -> None:
    result = autogrocery("config", "show", "-o", "robots.per_aisle=3", cwd=tmp_path)
    assert result.returncode == 0
    assert "per_aisle = 3" in result.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_headless_run_starts_and_stops_cleanly_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "autogrocery", "run", "--headless", "--data-dir", str(tmp_path)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")},
    ) as process:
        assert process.stderr is not None
        rest = _stop_when_running(process, sig)
    assert rest[-1]["msg"] == "store stopped"
    assert (tmp_path / "autogrocery.db").exists()


def _stop_when_running(process: subprocess.Popen[str], sig: signal.Signals) -> list[dict]:
    assert process.stderr is not None
    try:
        deadline = time.monotonic() + 20
        lines = []
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            assert line, "the store exited before it was running"
            if not line.startswith("{"):  # new passwords, shown to the operator, never logged
                continue
            lines.append(orjson.loads(line))
            if "running" in lines[-1]["msg"]:
                break
        process.send_signal(sig)
        assert process.wait(timeout=5) == 0
        return [orjson.loads(line) for line in process.stderr.read().splitlines()]
    finally:
        process.kill()
        process.wait()


def python(code: str) -> str:
    """What `code` prints, run by a fresh interpreter (its own modules and signal mask)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_store_on_memory_transports_starts_without_loading_zeromq() -> None:
    """ZeroMQ is for robots and analytics on other hosts: a store that has none does not
    pay its import (56 ms of a start) for the check that guards its endpoints."""
    probe = (
        "import sys\n"
        "from autogrocery.cli.run import _zmq_exposure\n"
        "from autogrocery.config import load_config\n"
        "assert _zmq_exposure(load_config(env={})) is None\n"
        "print(sorted(m for m in sys.modules if m == 'zmq' or m.startswith('zmq.')))\n"
    )
    assert python(probe) == "[]"


def test_the_commands_entry_keeps_a_blocked_sigint_blocked() -> None:
    """`run --dashboard` starts its dashboard with SIGINT blocked (the dashboard ignores
    it before it lets it through): the entry's guard around orjson's load puts the mask
    back as it found it, not open."""
    probe = (
        "import signal\n"
        "import autogrocery.cli.main as cli\n"
        "cli.main = lambda: int(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set()))\n"
        "from autogrocery.__main__ import run\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
        "print(run())\n"
    )
    assert python(probe) == "1"

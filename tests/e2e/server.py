"""A real `autogrocery run --headless` subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

ADMIN_PASSWORD = "admin-password-1"
TRUCK_PASSWORD = "truck-password-1"


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path

    def stop(self, sig: signal.Signals = signal.SIGTERM, within: float = 5.0) -> float:
        """Signal the server and return how long it took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout=within)
        return time.monotonic() - started


def start_server(
    data_dir: Path, *overrides: str, port: int = 0, flags: tuple[str, ...] = ()
) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    env |= {
        "AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "AUTOGROCERY_TRUCK_PASSWORD": TRUCK_PASSWORD,
    }
    args = [
        "run",
        "--headless",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "-o",
        "auth.bcrypt_cost=4",
        "-o",
        "robots.pick_time=0",
    ]
    for override in overrides:
        args += ["-o", override]
    args += flags
    process = subprocess.Popen(
        [sys.executable, "-m", "autogrocery", *args],
        cwd=data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            process.wait(5)
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        if not line.startswith("{"):  # a plain line: a new password, a warning
            continue
        entry = orjson.loads(line)
        if "url" in entry:
            _drain(process)
            return Server(process, entry["url"], data_dir)
    process.kill()
    raise RuntimeError("the server did not start listening within 30s")


def _drain(process: subprocess.Popen[str]) -> None:
    """Keep reading stderr so the server never blocks on a full pipe."""
    import threading

    def pump() -> None:
        assert process.stderr is not None
        for _ in process.stderr:
            pass

    threading.Thread(target=pump, daemon=True).start()


def stop_quietly(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    if server.process.stderr is not None:
        server.process.stderr.close()

"""A real `autogrocery run --headless` subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

ADMIN_PASSWORD = "admin-password-1"
TRUCK_PASSWORD = "truck-password-1"


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    log: list[dict[str, Any]] = field(default_factory=list)  # its JSON log lines so far

    def logged(self, text: str) -> list[dict[str, Any]]:
        """The log lines whose message contains `text`."""
        return [entry for entry in list(self.log) if text in str(entry.get("msg", ""))]

    def stop(self, sig: signal.Signals = signal.SIGTERM, within: float = 5.0) -> float:
        """Signal the server and return how long it took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout=within)
        return time.monotonic() - started


def start_server(
    data_dir: Path,
    *overrides: str,
    port: int = 0,
    flags: tuple[str, ...] = (),
    launcher: tuple[str, ...] = (),
    as_installed: bool = False,
) -> Server:
    """Start the store; `launcher` goes before the command (as `ip netns exec NS`).
    `as_installed`: as someone who just installed it starts it, with no passwords in
    the environment (the store makes and prints them) and no test speed-ups."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    args = ["run", "--headless", "--port", str(port), "--data-dir", str(data_dir)]
    if not as_installed:
        env |= {
            "AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "AUTOGROCERY_TRUCK_PASSWORD": TRUCK_PASSWORD,
        }
        args += ["-o", "auth.bcrypt_cost=4", "-o", "robots.pick_time=0"]
    for override in overrides:
        args += ["-o", override]
    args += flags
    process = subprocess.Popen(
        [*launcher, sys.executable, "-m", "autogrocery", *args],
        cwd=data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    log: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            process.wait(5)
            raise RuntimeError(
                f"the server exited with {process.returncode} before listening: {log[-3:]}"
            )
        entry = log_entry(line)  # a plain line (a new password, a warning) is kept as text
        log.append(entry)
        if "url" in entry:
            _drain(process, log)
            return Server(process, entry["url"], data_dir, log)
    process.kill()
    raise RuntimeError("the server did not start listening within 30s")


def log_entry(line: str) -> dict[str, Any]:
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {"msg": line.rstrip("\n")}  # not a log line (a traceback, say)
    return entry if isinstance(entry, dict) else {"msg": line.rstrip("\n")}


def _drain(process: subprocess.Popen[str], log: list[dict[str, Any]]) -> None:
    """Keep reading stderr into `log`, so the server never blocks on a full pipe."""
    import threading

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(log_entry(line))

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


async def call(
    session: aiohttp.ClientSession, server: Server, method: str, path: str, **kw: Any
) -> Any:
    """A call to `server` that must succeed: its JSON answer (None for a 204)."""
    async with session.request(method, f"{server.url}{path}", **kw) as response:
        assert response.status < 300, await response.text()
        return await response.json() if response.status != 204 else None


async def operator(session: aiohttp.ClientSession, server: Server) -> dict[str, str]:
    """The headers of `admin`, logged in."""
    login = {"username": "admin", "password": ADMIN_PASSWORD}
    tokens = await call(session, server, "POST", "/api/auth/login", json=login)
    return {"Authorization": f"Bearer {tokens['access_token']}"}

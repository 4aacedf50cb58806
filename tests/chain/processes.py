"""A head office and its stores as real processes (`autogrocery central run`, `autogrocery
run --join`) on loopback, driven over HTTP as their operators and devices would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from autogrocery.store.db import DB_NAME

CLI = [sys.executable, "-m", "autogrocery"]
PASSWORD = "drill-admin-password"


def environment() -> dict[str, str]:
    return {**os.environ, "AUTOGROCERY_CONFIG": "", "AUTOGROCERY_ADMIN_PASSWORD": PASSWORD}


@dataclass
class Process:
    """A running `autogrocery` command: its API's URL and what it logged, kept."""

    name: str
    args: list[str]
    url: str = ""
    said: dict[str, Any] = field(default_factory=dict)  # the "running" log line's fields
    proc: asyncio.subprocess.Process | None = None
    log: list[str] = field(default_factory=list)
    _pump: asyncio.Task[None] | None = None

    async def start(self, marker: str, within: float = 60.0) -> Process:
        self.proc = await asyncio.create_subprocess_exec(
            *CLI,
            *self.args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=environment(),
        )
        assert self.proc.stderr is not None
        try:
            async with asyncio.timeout(within):
                while True:
                    line = (await self.proc.stderr.readline()).decode()
                    assert line, f"{self.name} exited:\n" + "".join(self.log[-30:])
                    self.log.append(line)
                    if line.startswith("{") and marker in line:
                        self.said = orjson.loads(line)
                        self.url = self.said["url"]
                        break
        except BaseException:  # never leave it running behind a failed start
            self.kill()
            await self.proc.wait()
            raise
        self._pump = asyncio.create_task(self._drain())
        return self

    async def _drain(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.log.append(line.decode())

    def kill(self) -> None:
        """kill -9: no goodbye, no flush."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self, within: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within):
                code = await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            code = await self.proc.wait()
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 5)
        return code


class Client:
    """An operator (or a device) of one of the processes, over HTTP."""

    def __init__(self, http: aiohttp.ClientSession, url: str, username: str, password: str):
        self.http, self.url, self.username, self.password = http, url, username, password
        self.token = ""

    async def login(self) -> Client:
        body = {"username": self.username, "password": self.password}
        async with self.http.post(self.url + "/api/auth/login", json=body) as response:
            assert response.status == 200, await response.text()
            self.token = (await response.json())["access_token"]
        return self

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(
            method, self.url + path, json=body, headers=headers
        ) as response:
            data = await response.json(content_type=None) if response.content_length != 0 else None
            if response.status == 401 and self.token:
                await self.login()
                return await self.call(method, path, body)
            return response.status, data

    async def get(self, path: str) -> Any:
        status, data = await self.call("GET", path)
        assert status == 200, (path, status, data)
        return data


async def register(http: aiohttp.ClientSession, url: str, username: str) -> Client:
    body = {"username": username, "password": "drill-device-1"}
    async with http.post(url + "/api/auth/register", json=body) as response:
        assert response.status in (201, 409), await response.text()
    return await Client(http, url, username, "drill-device-1").login()


def ledger(data_dir: Path) -> dict[str, int]:
    """A store's own books: on hand per SKU, as the sum of its movements."""
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        return dict(conn.execute("SELECT sku, SUM(delta) FROM movements GROUP BY sku"))


def newest_event(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chain_outbox'").fetchone()
    return int(row[0]) if row else 0


def in_flight(data_dir: Path) -> int:
    """Orders, restocks and transfers the store's robots are still working on: each
    will end with events of its own."""
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        row = conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'PROCESSING'").fetchone()
    return int(row[0])


def movements(data_dir: Path, ref: str) -> list[tuple[str, str, int]]:
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        return sorted(conn.execute("SELECT sku, type, delta FROM movements WHERE ref = ?", (ref,)))


def hub_pid(hq: Path) -> int | None:
    """The head office's hub nats-server, from the ports file it writes."""
    for ports in (hq / "hub").glob("nats-server_*.ports"):
        return int(ports.stem.split("_", 1)[1])
    return None

"""Clients that misbehave, for the drills against a real store: a WebSocket that stops
reading, idle connections from one address, and devices ordering meanwhile."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from autogrocery.bench.target import _bench_catalog
from autogrocery.config import load_config

SMALL_RCVBUF = 4096  # bytes: a phone on a bad network, or a client that stopped reading


def deep_catalog(directory: Path) -> Path:
    """The default catalog with stock no drill runs out of."""
    path = directory / "catalog.toml"
    _bench_catalog(load_config(env={}).catalog_file, path)
    return path


def host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def connect(url: str, source: str | None = None) -> socket.socket:
    """A TCP connection to the store, from `source` (another loopback address) if given."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(10)
    if source is not None:
        sock.bind((source, 0))
    sock.connect(host_port(url))
    return sock


def stalled_websocket(url: str, token: str) -> socket.socket:
    """An event WebSocket on a raw socket with a tiny receive buffer: it reads its 101
    answer, byte by byte so that nothing past it is read, and never reads again."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
    sock.settimeout(10)
    sock.connect(host_port(url))
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    sock.sendall(
        (
            "GET /api/events HTTP/1.1\r\nHost: store\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, f"the store hung up during the upgrade: {head!r}"
        head += byte
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def token_of(http: aiohttp.ClientSession, url: str, username: str, password: str) -> str:
    body = {"username": username, "password": password}
    async with http.post(f"{url}/api/auth/login", json=body) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def device(http: aiohttp.ClientSession, url: str) -> dict[str, str]:
    """A new device's Authorization header."""
    name, password = f"fridge-{secrets.token_hex(4)}", "fridge-password-1"
    body = {"username": name, "password": password}
    async with http.post(f"{url}/api/auth/register", json=body) as response:
        assert response.status == 201, await response.text()
    return {"Authorization": f"Bearer {await token_of(http, url, name, password)}"}


async def order(http: aiohttp.ClientSession, url: str, headers: dict[str, str], sku: str) -> str:
    """One order, previewed and confirmed; returns its id."""
    body = {"items": [{"sku": sku, "quantity": 1}]}
    async with http.post(f"{url}/api/orders/preview", json=body, headers=headers) as r:
        assert r.status == 201, await r.text()
        order_id = str((await r.json())["order_id"])
    async with http.post(f"{url}/api/orders/{order_id}/confirm", headers=headers) as r:
        assert r.status == 202, await r.text()
    return order_id


async def metric(http: aiohttp.ClientSession, url: str, name: str) -> float:
    async with http.get(f"{url}/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    raise AssertionError(f"no {name} in /metrics")


async def order_until(
    http: aiohttp.ClientSession,
    url: str,
    done: Callable[[], Awaitable[bool]],
    *,
    within: float,
    clients: int = 8,
) -> int:
    """Devices order (one line each, `clients` at a time) until `done()`; returns how
    many orders were made. Fails if it is not done `within` seconds."""
    devices = [await device(http, url) for _ in range(clients)]
    async with http.get(f"{url}/api/catalog", headers=devices[0]) as response:
        skus = [item["sku"] for item in (await response.json())["items"]]
    made = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await done():
        assert loop.time() < deadline, f"not done after {within} s and {made} orders"
        await asyncio.gather(
            *(order(http, url, d, skus[(made + n) % len(skus)]) for n, d in enumerate(devices))
        )
        made += len(devices)
    return made

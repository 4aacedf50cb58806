"""The slow-subscriber drill: what WebSocket clients that never read cost the store.

Starts `autogrocery run --headless` (deep stock, robots.pick_time=0), lets CLIENTS
devices order (preview + confirm, one line each) for WARMUP seconds so that the store's
own caches are warm, reads its resident memory ("before"), then opens SUBSCRIBERS
operator WebSockets on raw sockets whose receive buffer is 4 KiB and which never read
after the upgrade, keeps the devices ordering for DURATION seconds, closes the stalled
sockets and waits SETTLE seconds ("after"). Memory is `/proc/<pid>/status` VmRSS, and
VmHWM for the peak; kernel memory is the machine's TCP memory (`/proc/net/sockstat`).
With --sigterm it times instead how long the store takes to exit on SIGTERM while the
stalled sockets are still open (the shutdown drill of issue 21).

    python tools/slow_subscribers.py --subscribers 1000 --duration 45
    python tools/slow_subscribers.py --subscribers 0 --duration 45   # the baseline
    python tools/slow_subscribers.py --subscribers 1 --duration 8 --warmup 0 --sigterm

Run it with another checkout first on PYTHONPATH to measure that code (the store is
started with this interpreter, `python -m autogrocery`, and inherits PYTHONPATH).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from autogrocery.bench.target import Target, start_store
from autogrocery.config import ApiConfig

SMALL_RCVBUF = 4096
SETTLE = 10.0  # seconds after the subscribers close, before "after" is read


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def tcp_mem_kb() -> int:
    """Kernel memory held by TCP sockets on this machine (sockstat's `mem`, pages)."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return 0


def send_queue_mb(port: int) -> float:
    """Bytes waiting in the kernel's send queues of the store's sockets (`ss`)."""
    try:
        out = subprocess.run(  # noqa: S603
            ["ss", "-tnH", "state", "established", f"( sport = :{port} )"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return -1.0
    return sum(int(line.split()[1]) for line in out.splitlines() if line.strip()) / 2**20


async def scrape(http: aiohttp.ClientSession, name: str) -> float:
    async with http.get("/metrics") as r:
        for line in (await r.text()).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return -1.0


def stalled_subscriber(host: str, port: int, token: str) -> socket.socket:
    """An operator WebSocket on a raw socket with a tiny receive buffer that reads its
    101 answer and nothing after."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
    sock.settimeout(10)
    sock.connect((host, port))
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    sock.sendall(
        (
            f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:  # byte by byte: nothing past the head is read
        byte = sock.recv(1)
        if not byte:
            raise ConnectionError(f"closed during the upgrade: {head!r}")
        head += byte
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"no upgrade: {head[:200]!r}")
    return sock


async def order_loop(
    http: aiohttp.ClientSession, headers: dict[str, str], skus: list[str], until: float
) -> int:
    made = 0
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        body = {"items": [{"sku": secrets.choice(skus), "quantity": 1}]}
        async with http.post("/api/orders/preview", json=body, headers=headers) as r:
            preview = await r.json()
            if r.status != 201:
                await asyncio.sleep(0.1)
                continue
        async with http.post(f"/api/orders/{preview['order_id']}/confirm", headers=headers) as r:
            await r.read()
            made += r.status == 202
    return made


async def login(http: aiohttp.ClientSession, name: str, password: str) -> dict[str, str]:
    body = {"username": name, "password": password}
    async with http.post("/api/auth/login", json=body) as r:
        r.raise_for_status()
        return {"Authorization": f"Bearer {(await r.json())['access_token']}"}


async def drill(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    if target.process is None:
        raise RuntimeError("the drill needs a store of its own")
    pid = target.process.pid
    host, port = target.url.removeprefix("http://").rsplit(":", 1)
    report: dict[str, Any] = {"subscribers": args.subscribers, "duration_s": args.duration}
    async with aiohttp.ClientSession(target.url) as http:
        admin = await login(http, "admin", target.admin_password)
        token = admin["Authorization"].split()[1]
        async with http.get("/api/catalog", headers=admin) as r:
            skus = [item["sku"] for item in (await r.json())["items"]]
        devices = []
        password = secrets.token_urlsafe(12)
        for n in range(args.devices):
            name = f"slow-{secrets.token_hex(3)}-{n}"
            body = {"username": name, "password": password}
            async with http.post("/api/auth/register", json=body) as r:
                r.raise_for_status()
            devices.append(await login(http, name, password))
        loop = asyncio.get_running_loop()
        until = loop.time() + args.warmup
        warm = [
            order_loop(http, devices[n % len(devices)], skus, until) for n in range(args.clients)
        ]
        report["warmup_orders"] = sum(await asyncio.gather(*warm))
        await asyncio.sleep(2)  # let the last orders settle
        report["rss_before_mb"] = status_kb(pid, "VmRSS") / 1024
        report["rss_peak_before_mb"] = status_kb(pid, "VmHWM") / 1024
        report["tcp_mem_before_mb"] = tcp_mem_kb() / 1024
        socks: list[socket.socket] = []
        for _ in range(args.subscribers):
            socks.append(
                await loop.run_in_executor(None, stalled_subscriber, host, int(port), token)
            )
        until = loop.time() + args.duration
        peak_tcp = 0
        orders = asyncio.gather(
            *(order_loop(http, devices[n % len(devices)], skus, until) for n in range(args.clients))
        )
        while not orders.done():
            await asyncio.wait([orders], timeout=0.5)
            peak_tcp = max(peak_tcp, tcp_mem_kb())
        report["orders"] = sum(await orders)
        report["send_queues_mb"] = send_queue_mb(int(port))
        report["events_dropped"] = await scrape(http, "autogrocery_events_dropped_total")
        report["rss_during_mb"] = status_kb(pid, "VmRSS") / 1024
        report["rss_peak_mb"] = status_kb(pid, "VmHWM") / 1024
        report["tcp_mem_peak_mb"] = peak_tcp / 1024
        if args.sigterm:
            started = time.monotonic()
            target.process.send_signal(signal.SIGTERM)
            try:
                await loop.run_in_executor(None, target.process.wait, args.sigterm_wait)
                report["sigterm_exit_s"] = round(time.monotonic() - started, 2)
            except Exception:
                report["sigterm_exit_s"] = f"still running after {args.sigterm_wait} s"
            for sock in socks:
                sock.close()
            return report
        for sock in socks:
            sock.close()
        await asyncio.sleep(SETTLE)
        report["rss_after_mb"] = status_kb(pid, "VmRSS") / 1024
        report["connections_after"] = await scrape(http, "autogrocery_http_connections")
        report["tcp_mem_after_mb"] = tcp_mem_kb() / 1024
    before, after = report["rss_before_mb"], report["rss_after_mb"]
    report["after_vs_before"] = f"{(after - before) / before:+.0%}"
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=45.0)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--sigterm", action="store_true", help="then time a SIGTERM")
    parser.add_argument("--sigterm-wait", type=float, default=180.0)
    parser.add_argument("-o", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)
    wanted = max(1000, args.subscribers + 500)
    extra = [f"api.max_connections={wanted}"]
    if "max_connections_per_client" in ApiConfig.__dataclass_fields__:
        extra.append("api.max_connections_per_client=0")  # every client is on 127.0.0.1
    target = start_store(
        transport="memory",
        robots_per_aisle=2,
        pick_time=0.0,
        extra=[*extra, *args.overrides],
    )
    try:
        report = asyncio.run(drill(target, args))
    finally:
        with contextlib.suppress(Exception):
            if target.process is not None and target.process.poll() is None:
                target.process.kill()
        target.stop()
    report = {k: round(v, 1) if isinstance(v, float) else v for k, v in report.items()}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

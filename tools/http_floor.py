"""The floor under `autogrocery bench`'s "store CPU per order": what the HTTP layer alone
costs per order on this machine. A bare aiohttp server (no auth, no validation, no
actors, no SQLite, no logging) answers what an order asks of the store's event loop:
a JSON preview, a confirm, and the three WebSocket frames its device is sent
(PREVIEWED, PROCESSING, COMPLETED). The client drives it as the bench drives the store
(open loop at a rate, or a closed loop of C devices) and reads the server's CPU from
/proc. Not a test; run it from any directory:

    python -m tools.http_floor --rate 50 --duration 15
    python -m tools.http_floor --concurrency 32 --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

import aiohttp
import orjson
from aiohttp import web

FRAMES = 3  # the order events a device's socket carries for one order
DEVICES = 64


def serve(port: int) -> None:
    sockets: dict[str, web.WebSocketResponse] = {}

    async def preview(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        answer = {"order_id": "ord_1", "status": "PREVIEWED", "lines": body["lines"]}
        ws = sockets.get(request.headers["X-Device"])
        if ws is not None:
            await ws.send_bytes(orjson.dumps({"type": "order", "status": "PREVIEWED"}))
        return web.Response(body=orjson.dumps(answer), status=201, content_type="application/json")

    async def confirm(request: web.Request) -> web.Response:
        await request.read()
        ws = sockets.get(request.headers["X-Device"])
        if ws is not None:
            for status in ("PROCESSING", "COMPLETED")[: FRAMES - 1]:
                await ws.send_bytes(orjson.dumps({"type": "order", "status": status}))
        return web.Response(body=b'{"status":"PROCESSING"}', status=202)

    async def live(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets[request.query["device"]] = ws
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_post("/preview", preview)
    app.router.add_post("/confirm", confirm)
    app.router.add_get("/live", live)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(port: int, pid: int, rate: float | None, concurrency: int, duration: float) -> str:
    base = f"http://127.0.0.1:{port}"
    body = {"lines": [{"sku": f"SKU-{n}", "quantity": 1} for n in range(3)]}
    async with aiohttp.ClientSession() as session:
        devices = [f"d{n}" for n in range(DEVICES)]
        sockets = [await session.ws_connect(f"{base}/live?device={d}") for d in devices]

        async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for _ in ws:
                pass

        drains = [asyncio.create_task(drain(ws)) for ws in sockets]

        async def order(device: str) -> None:
            headers = {"X-Device": device}
            async with session.post(f"{base}/preview", json=body, headers=headers) as r:
                await r.read()
            async with session.post(f"{base}/confirm", data=b"{}", headers=headers) as r:
                await r.read()

        done = 0
        began, cpu_began = time.monotonic(), cpu_seconds(pid)
        if rate is not None:
            started: list[asyncio.Task[None]] = []
            while time.monotonic() - began < duration:
                started.append(asyncio.create_task(order(devices[len(started) % DEVICES])))
                await asyncio.sleep(max(0.0, began + len(started) / rate - time.monotonic()))
            await asyncio.gather(*started)
            done = len(started)
        else:

            async def device_loop(device: str) -> int:
                n = 0
                while time.monotonic() - began < duration:
                    await order(device)
                    n += 1
                return n

            done = sum(await asyncio.gather(*(device_loop(d) for d in devices[:concurrency])))
        spent, cpu = time.monotonic() - began, cpu_seconds(pid) - cpu_began
        for task in drains:
            task.cancel()
    load = f"open loop {rate:g}/s" if rate is not None else f"closed loop C={concurrency}"
    return (
        f"{load}: {done / spent:.0f} orders/s, server CPU per order "
        f"{1000 * cpu / done:.3f} ms ({done} orders, {spent:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--rate", type=float)
    load.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    given = parser.parse_args()
    if given.serve:
        serve(given.serve)
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "tools.http_floor", "--serve", str(port)])  # noqa: S603
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        print(asyncio.run(drive(port, server.pid, given.rate, given.concurrency, given.duration)))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

"""The first minutes of a fresh store, as a newcomer sees them.

Starts `autogrocery run --headless --simulate` on a new data directory, lets the
simulator order and restock for DURATION seconds, then reads the store's own records:
confirm→completed latency of the customer orders confirmed in that window (p50, p99,
max), how many were still PROCESSING at the end, and how long each of the first
restocks took to shelve.

    python tools/first_minutes.py --duration 120 [--autogrocery PATH] [-o robots.x=y]

`--autogrocery` names the command to start (another checkout's venv, to compare
before and after in one run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from typing import Any

import aiohttp

PASSWORD = "first-minutes-admin"  # noqa: S105 (a throwaway store of its own)


def parse_time(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def pages(http: aiohttp.ClientSession, url: str, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    headers = {"Authorization": f"Bearer {token}"}
    key = "orders" if "/orders" in url else "restocks"
    while True:
        query = f"?limit=200{'&cursor=' + cursor if cursor else ''}"
        async with http.get(url + query, headers=headers) as response:
            data = await response.json()
        found.extend(data[key])
        cursor = data.get("next_cursor") or ""
        if not cursor:
            return found


async def measure(api: str, started: float, duration: float) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        body = {"username": "admin", "password": PASSWORD}
        async with http.post(api + "/api/auth/login", json=body) as response:
            token = (await response.json())["access_token"]
        orders = await pages(http, api + "/api/orders", token)
        restocks = await pages(http, api + "/api/restocks", token)
    end = started + duration
    latencies, processing = [], 0
    for order in orders:
        confirmed = parse_time(order.get("confirmed_at"))
        if confirmed is None or not started <= confirmed <= end:
            continue
        completed = parse_time(order.get("completed_at"))
        if order["status"] == "PROCESSING" or completed is None:
            processing += 1
            latencies.append(time.time() - confirmed)  # at least this long
        else:
            latencies.append(completed - confirmed)
    shelved = sorted(
        (parse_time(r["created_at"]) or 0.0, r.get("latency_ms"), len(r["items"]), r["status"])
        for r in restocks
    )
    return {
        "orders": len(latencies),
        "still_processing": processing,
        "p50_s": percentile(latencies, 0.50),
        "p99_s": percentile(latencies, 0.99),
        "max_s": max(latencies, default=0.0),
        "mean_s": statistics.fmean(latencies) if latencies else 0.0,
        "first_restocks": [
            {"lines": lines, "status": status, "shelve_s": (ms or 0) / 1000}
            for _, ms, lines, status in shelved[:3]
        ],
    }


async def wait_ready(api: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(api + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise SystemExit("the store did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--rate", type=float, default=5.0, help="the simulator's orders/s")
    parser.add_argument("--autogrocery", default="autogrocery", help="the command to start")
    parser.add_argument("-o", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {"AUTOGROCERY_ADMIN_PASSWORD": PASSWORD}
        command = [args.autogrocery, "run", "--headless", "--simulate", str(args.rate)]
        command += ["--port", "0", "--data-dir", data]
        for override in args.overrides:
            command += ["-o", override]
        store = subprocess.Popen(  # noqa: S603 (our own command)
            command,
            env=env,
            cwd=data,  # no config.toml of a checkout: the packaged defaults, as installed
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            api = served_at(store)
            asyncio.run(wait_ready(api, time.monotonic() + 120))
            started = time.time()
            time.sleep(args.duration)
            result = asyncio.run(measure(api, started, args.duration))
        finally:
            store.send_signal(signal.SIGTERM)
            store.wait(timeout=30)
    print(result)
    return 0


def served_at(store: subprocess.Popen[str]) -> str:
    """The API's address, from the store's own log line (it binds any free port)."""
    if store.stderr is None:
        raise SystemExit("the store's stderr is not piped")
    said = []
    for line in store.stderr:
        said.append(line)
        if '"url"' in line:
            url = str(json.loads(line)["url"])
            threading.Thread(target=store.stderr.read, daemon=True).start()  # keep draining
            return url
    raise SystemExit(f"the store exited with {store.wait()} before it served: {said[-3:]}")


if __name__ == "__main__":
    sys.exit(main())

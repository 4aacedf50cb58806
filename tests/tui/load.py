"""The store's event-loop lag with the dashboard open, and the dashboard's own redraw
times, while the simulator drives the store at `rate` orders per second: `measure`, which
`test_load.py` runs for a few seconds in CI and `tools/dashboard_load.py` for a minute:

    python -m tools.dashboard_load --seconds 60 --rate 200
    python -m tools.dashboard_load --seconds 60 --rate 200 --no-dashboard   # the baseline

It runs `autogrocery run --simulate RATE` in a pseudo-terminal, as an operator would:
the store in one process, the dashboard (`autogrocery dashboard --url`) in another, and
the simulator in a third. The lag is the store's own: each `metrics.tick` event (one a
second, on `/api/events`) carries `loop_lag_ms`, the worst lag of the store's event
loop in that second (a 100 ms sleep that woke late by that much), so the largest tick
is the worst stall of the run. Each second the dashboard is switched to the next panel.
Its redraw times come from its log (`<data dir>/dashboard.log`): on exit it logs how
many redraws it made and their `update` time (model to widgets) and `painted` time (to
the screen), p50, p99 and max.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from tests.tui.terminal import Terminal

TABS = "123456"
ADMIN_PASSWORD = "admin-password-1"
SETTINGS = [  # robots and trucks keep up with 200 orders/s, so the load stays at the rate
    "-o",
    "auth.bcrypt_cost=4",
    "-o",
    "robots.per_aisle=8",
    "-o",
    "robots.pick_time=0.01",
    "-o",
    "log.format=json",
]


@dataclass
class Result:
    seconds: float
    rate: float
    dashboard: bool
    orders: int  # completed during the measurement
    orders_per_second: float
    ticks: int  # seconds measured
    lag_p50_ms: float  # of each second's worst lag
    lag_p99_ms: float
    lag_max_ms: float  # the worst stall of the run
    redraw: dict[str, float] = field(default_factory=dict)  # from the dashboard's log


def environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return env | {"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD, "XDG_CONFIG_HOME": str(work)}


def url_from(lines: list[bytes]) -> str | None:
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("url"):
            return str(entry["url"])
    return None


async def follow(
    url: str, seconds: float, terminal: Terminal | None
) -> tuple[list[float], int, float]:
    """Worst loop lag of each second, orders completed, and how long it took."""
    async with aiohttp.ClientSession() as http:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        async with http.post(f"{url}/api/auth/login", json=login) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def completed() -> int:
            async with http.get(f"{url}/api/ops/analytics", headers=headers) as response:
                return int((await response.json())["customer"]["completed"])

        lags: list[float] = []
        async with http.ws_connect(f"{url}/api/events", headers=headers) as ws:
            before, started = await completed(), time.monotonic()
            step, switched = 0, started
            while (elapsed := time.monotonic() - started) < seconds:
                if terminal is not None:
                    terminal.read(0.0)  # keep the pty drained, or the dashboard blocks
                    if time.monotonic() - switched >= 1.0:
                        step, switched = step + 1, time.monotonic()
                        terminal.type(TABS[step % len(TABS)])
                try:
                    message = await ws.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    raise RuntimeError(f"the event stream ended: {message}")
                event = orjson.loads(message.data)
                if event.get("type") == "metrics.tick":
                    lags.append(float(event["data"]["loop_lag_ms"]))
            orders = await completed() - before
    return lags, orders, elapsed


def redraw_figures(log: Path) -> dict[str, float]:
    """The dashboard's redraw times over the whole run, from its reports (JSON log lines:
    one a minute and one on exit, each over the redraws since the one before). Redraws
    add up; p99 and max are the worst report's (an upper bound for the run's p99); p50
    is that of the report that covers the most redraws."""
    reports: list[dict[str, float]] = []
    if log.exists():
        for line in log.read_bytes().splitlines():
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("redraw"), dict):
                reports.append(entry["redraw"])
    if not reports:
        return {}
    largest = max(reports, key=lambda report: report.get("redraws", 0.0))
    combined = {"redraws": sum(report.get("redraws", 0.0) for report in reports)}
    for name in ("update", "painted"):
        combined[f"{name}_p50_ms"] = largest.get(f"{name}_p50_ms", 0.0)
        for figure in ("p99", "max"):
            key = f"{name}_{figure}_ms"
            combined[key] = max(report.get(key, 0.0) for report in reports)
    combined["events"] = max(report.get("events", 0.0) for report in reports)  # a running count
    return combined


def measure(seconds: float, rate: float, work: Path, *, with_dashboard: bool = True) -> Result:
    data = work / "data"
    args = ["run", "--data-dir", str(data), "--port", "0", "--simulate", f"{rate:g}", *SETTINGS]
    env = environment(work)
    if with_dashboard:
        opened = Terminal(args, work, env, (160, 50))
        terminal: Terminal | None = opened
        process = opened.process
    else:
        terminal = None
        process = subprocess.Popen(
            [sys.executable, "-m", "autogrocery", *args, "--headless"],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(work / "store.log").open("wb"),
            env=env,
        )
    try:
        log = data / "autogrocery.log" if with_dashboard else work / "store.log"
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the store did not start; see {log}")
            if terminal is not None:
                terminal.read(0.1)
            else:
                time.sleep(0.1)
            url = url_from(log.read_bytes().splitlines()) if log.exists() else None
        if terminal is not None:
            terminal.wait_for("● live", within=60)
        lags, orders, elapsed = asyncio.run(follow(url, seconds, terminal))
        if terminal is not None:
            terminal.type("q")
            terminal.wait_exit(60)
        else:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    finally:
        if terminal is not None:
            terminal.close()
        elif process.poll() is None:
            process.kill()
            process.wait()
    ordered = sorted(lags)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0

    return Result(
        seconds=round(elapsed, 1),
        rate=rate,
        dashboard=with_dashboard,
        orders=orders,
        orders_per_second=round(orders / elapsed, 1),
        ticks=len(lags),
        lag_p50_ms=pct(0.5),
        lag_p99_ms=pct(0.99),
        lag_max_ms=ordered[-1] if ordered else 0.0,
        redraw=redraw_figures(data / "dashboard.log") if with_dashboard else {},
    )

"""The event-loop lag of one process running the store, its API and the dashboard,
while the simulator (in its own process) drives the store over HTTP.

    python -m tests.tui.load --seconds 60 --rate 200

prints one JSON line: the lag percentiles of the store's loop (the one the API and the
dashboard share), orders per second achieved, events the dashboard took in and how
often it redrew. `test_load.py` runs the same for a few seconds in CI. With
`--screenshot FILE` it also saves the dashboard as an SVG at the end (`--tab` picks the
panel), which is how docs/dashboard.svg was made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from textual.app import App

from autogrocery.api import create_app, serve
from autogrocery.app import start_system
from autogrocery.cli_dashboard import ensure_accounts
from autogrocery.config import load_config
from autogrocery.simulate import SimulatorProcess
from autogrocery.tui.app import DashboardApp
from autogrocery.tui.client import ApiClient, Credentials
from autogrocery.tui.feed import Link
from autogrocery.tui.model import StoreModel

TABS = "12345"
ENVIRON = {
    "AUTOGROCERY_ADMIN_PASSWORD": "admin-password-1",
    "AUTOGROCERY_TRUCK_PASSWORD": "truck-password-1",
}


class Placeholder(App[None]):
    """For the baseline: an app that draws nothing and follows nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.link = Link(True)
        self.model = StoreModel()
        self.model.inventory = {"-": {}}
        self.redraws = 0


@dataclass
class Result:
    seconds: float
    rate: float
    orders: int
    orders_per_second: float
    shortages: int
    behind: int
    errors: int
    restocks: int
    events: int
    redraws: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float


async def measure(
    seconds: float,
    rate: float,
    data_dir: Path,
    *overrides: str,
    screenshot: Path | None = None,
    tab: str = "1",
    bcrypt_cost: int = 4,
    with_dashboard: bool = True,
) -> Result:
    config = load_config(
        env={},
        overrides=[
            f"store.data_dir={data_dir}",
            f"auth.bcrypt_cost={bcrypt_cost}",
            "log.format=text",
            "robots.per_aisle=8",  # and 10 ms per item: robots and trucks keep up with
            "robots.pick_time=0.01",  # 200 orders/s, so the load stays at 200 orders/s
            *overrides,
        ],
    )
    system = await start_system(config)
    app = create_app(config, system, environ=ENVIRON)
    runner, url = await serve(app, "127.0.0.1", 0)
    accounts = await ensure_accounts(app, config.data_path)
    simulator = SimulatorProcess(
        url,
        accounts.operator,
        accounts.truck,
        accounts.fridge_password,
        rate,
        log_file=Path(data_dir) / "simulator.log",
    )
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    running = True

    async def watch() -> None:
        while running:
            before = loop.time()
            await asyncio.sleep(0.005)
            lags.append(loop.time() - before - 0.005)

    login = Credentials(accounts.operator.username, accounts.operator.password)
    try:
        async with ApiClient(url, login) as client:
            dashboard: Any = DashboardApp(client) if with_dashboard else Placeholder()
            async with dashboard.run_test(size=(160, 50)) as pilot:
                deadline = time.monotonic() + 30
                while not (dashboard.link.connected and dashboard.model.inventory):
                    assert time.monotonic() < deadline, "the dashboard did not connect"
                    await pilot.pause(0.05)
                simulator.start()
                while simulator.stats.orders == 0:
                    assert time.monotonic() < deadline, "the simulator placed no order"
                    await asyncio.sleep(0.05)
                watcher = asyncio.create_task(watch())
                started = time.monotonic()
                orders_before = simulator.stats.orders
                step = 0
                while (elapsed := time.monotonic() - started) < seconds:
                    await pilot.press(TABS[step % len(TABS)])  # draw every panel under load
                    step += 1
                    await asyncio.sleep(min(1.0, seconds - elapsed))
                stats = simulator.stats
                orders = stats.orders - orders_before
                if screenshot is not None:
                    await pilot.press(tab)
                    await pilot.pause(0.5)
                    dashboard.save_screenshot(screenshot.name, path=str(screenshot.parent))
                running = False
                await watcher
                events, redraws = dashboard.model.events, dashboard.redraws
    finally:
        running = False
        await loop.run_in_executor(None, simulator.stop)
        await runner.cleanup()
        await system.stop()
    lags.sort()

    def pct(p: float) -> float:
        return round(lags[min(len(lags) - 1, int(p * len(lags)))] * 1000, 1) if lags else 0.0

    return Result(
        seconds=round(elapsed, 1),
        rate=rate,
        orders=orders,
        orders_per_second=round(orders / elapsed, 1),
        shortages=stats.shortages,
        behind=stats.behind,
        errors=stats.errors,
        restocks=stats.restocks,
        events=events,
        redraws=redraws,
        lag_p50_ms=pct(0.5),
        lag_p99_ms=pct(0.99),
        lag_max_ms=round(lags[-1] * 1000, 1) if lags else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--tab", default="1", choices=list(TABS))
    parser.add_argument("-o", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--no-dashboard", action="store_true", help="the baseline: store and API alone"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir or Path(scratch) / "data"
        result = asyncio.run(
            measure(
                args.seconds,
                args.rate,
                data_dir,
                *args.overrides,
                screenshot=args.screenshot,
                tab=args.tab,
                with_dashboard=not args.no_dashboard,
            )
        )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()

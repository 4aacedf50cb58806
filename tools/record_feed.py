"""Record what the dashboard receives from a real store, for tests that replay it:

    python -m tools.record_feed --seconds 8 --rate 5 tests/tui/data/feed.jsonl

A store with its API runs in this process and the simulator in another one. The
recording holds, in arrival order, every `/api/events` frame (`{"frame": …}`: order,
restock, stock, robot, alert and `metrics.tick` events) and a `GET /api/ops/analytics`
answer each second (`{"analytics": …}`), which is what the dashboard's poll reads.
One second in, a truck sends a restock manifest, as the dashboard's restock form does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import orjson

from autogrocery.api import create_app, serve
from autogrocery.cli.run_dashboard import ensure_accounts
from autogrocery.client import Credentials
from autogrocery.config import load_config
from autogrocery.simulate import Simulation
from autogrocery.simulate_process import SimulatorProcess
from autogrocery.tui.client import ApiClient, ManifestLine
from autogrocery.wiring import start_system

ENVIRON = {"AUTOGROCERY_ADMIN_PASSWORD": "admin-password-1"}


async def record(seconds: float, rate: float, data_dir: Path) -> list[dict[str, Any]]:
    config = load_config(
        env={},
        overrides=[
            f"store.data_dir={data_dir}",
            "auth.bcrypt_cost=4",
            "robots.pick_time=0.01",
            "log.level=WARNING",
        ],
    )
    system = await start_system(config)
    app = create_app(config, system, environ=ENVIRON)
    runner, url = await serve(app, "127.0.0.1", 0)
    accounts = await ensure_accounts(app, config.data_path)
    simulator = SimulatorProcess(
        Simulation(url, accounts.operator, accounts.truck, accounts.fridge_password, rate)
    )
    recorded: list[dict[str, Any]] = []
    login = Credentials(accounts.operator.username, accounts.operator.password)
    truck = Credentials(accounts.truck.username, accounts.truck.password)
    try:
        async with ApiClient(url, login, truck) as client, client.events() as ws:
            simulator.start()

            async def poll() -> None:
                for second in range(int(seconds) + 1):
                    analytics = await client.analytics()
                    recorded.append({"analytics": msgspec.to_builtins(analytics)})
                    if second == 1:
                        items: list[ManifestLine] = [
                            {"sku": "BRD-001", "quantity": 40, "unit_cost": "3.10"}
                        ]
                        await client.submit_restock(items)
                    await asyncio.sleep(1.0)

            poller = asyncio.create_task(poll())
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    message = await ws.receive(timeout=left)
                except TimeoutError:
                    break
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    recorded.append({"frame": orjson.loads(message.data)})
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
    finally:
        await asyncio.get_running_loop().run_in_executor(None, simulator.stop)
        await runner.cleanup()
        await system.stop()
    return recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        recorded = asyncio.run(record(args.seconds, args.rate, Path(scratch) / "data"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in recorded))
    kinds: dict[str, int] = {}
    for line in recorded:
        kind = line["frame"]["type"] if "frame" in line else "analytics"
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"{len(recorded)} lines to {args.output}: {kinds}")


if __name__ == "__main__":
    main()

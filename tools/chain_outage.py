"""A store's link to its head office cut for a while under steady orders, then healed:
how long the head office takes to catch up, and how fast it applies the backlog.

    python -m tools.chain_outage --outage 600 --rate 100

Starts a head office and one store (`autogrocery run --join`, robots instant) whose
leaf reaches the hub through a TCP proxy, lets the link settle, cuts it, runs
`autogrocery bench --rate RATE` against the store for the outage, heals the link, and
polls until the store has nothing waiting. Prints the events waiting at the heal, the
catch-up time, and the head office's apply rate while catching up (events applied per
second, sampled every half second).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.chain.processes import CLI, PASSWORD, Client, Process, environment
from tests.chain.proxy import Proxy


async def run(outage: float, rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        proxy = await Proxy("127.0.0.1", 0).start()
        central = Process(
            "central",
            ["central", "run", "--headless", "--port", "0", "--leaf-port", "0", "--data-dir",
             str(root / "hq"), "-o", f"central.leaf_advertise={proxy.address}"],
        )  # fmt: skip
        store: Process | None = None
        async with aiohttp.ClientSession() as http:
            try:
                await central.start("head office running")
                host, port = central.said["leaf_listen"].rsplit(":", 1)
                proxy.target = (host, int(port))
                join = root / "north.join"
                enroll = await asyncio.create_subprocess_exec(
                    *CLI, "central", "enroll", "north", "--data-dir", str(root / "hq"),
                    "--out", str(join), env=environment(),
                )  # fmt: skip
                if await enroll.wait() != 0:
                    raise SystemExit("central enroll failed")
                store = Process(
                    "north",
                    ["run", "--headless", "--port", "0", "--data-dir", str(root / "north"),
                     "--join", str(join), "-o", "robots.pick_time=0"],
                )  # fmt: skip
                await store.start("running; API on")
                ops = await Client(http, store.url, "admin", PASSWORD).login()
                hq = await Client(http, central.url, "admin", PASSWORD).login()
                await _until(lambda: _pending(ops, 0), 60)
                proxy.sever()
                bench = await asyncio.create_subprocess_exec(
                    *CLI, "bench", "--url", store.url, "--rate", str(rate),
                    "--duration", str(outage), "--warmup", "0",
                    env=environment(), stdout=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                await bench.wait()
                waiting = (await ops.get("/api/ops/chain"))["outbox_pending"]
                applied_before = await _applied(hq)
                healed = time.monotonic()
                proxy.heal()
                samples: list[tuple[float, int]] = []
                while (await ops.get("/api/ops/chain"))["outbox_pending"] > 0:
                    samples.append((time.monotonic(), await _applied(hq)))
                    await asyncio.sleep(0.5)
                caught_up = time.monotonic() - healed
                applied = await _applied(hq) - applied_before
                rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(samples)]
                return {
                    "outage_s": outage,
                    "rate": rate,
                    "events_waiting_at_heal": waiting,
                    "catch_up_s": round(caught_up, 1),
                    "events_applied": applied,
                    "mean_apply_rate": round(applied / caught_up, 1) if caught_up else 0.0,
                    "peak_apply_rate": round(max(rates, default=0.0), 1),
                }
            finally:
                if store is not None:
                    await store.stop()
                await central.stop()
                await proxy.close()


async def _applied(hq: Client) -> int:
    stats = await hq.get("/api/chain/events/stats")
    return sum(s["events_applied"] for s in stats["stores"])


async def _pending(ops: Client, most: int) -> bool:
    link = await ops.get("/api/ops/chain")
    return bool(link["hub_connected"]) and link["outbox_pending"] <= most


async def _until(check, within: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit("the store did not link to its head office")
        await asyncio.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=600.0, help="seconds cut off")
    parser.add_argument("--rate", type=float, default=100.0, help="orders/s at the store")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.outage, args.rate))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

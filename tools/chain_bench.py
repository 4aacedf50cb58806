"""A store's closed-loop speed with `[chain]` on and off, in one run, interleaved.

    python -m tools.chain_bench --pairs 3 --duration 10

Starts a head office, then alternates `autogrocery bench --concurrency 32` on a new
store alone and on a new store joined to that head office (enrolled for the run,
`--store-option chain.join=FILE`): on this VM, whose speed drifts by the hour, only
runs side by side compare. The bench counts the store's leaf server in its CPU.
Prints each run, then the medians and the ratio of each pair.

The head office shares this machine's two cores with the store unless
`--office-paused`: then its service is stopped (SIGSTOP) during each joined run while
its hub keeps taking the leaf's events, as when the head office runs elsewhere and
the store pays only for its outbox, relay and leaf.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.chain.processes import CLI, Process, environment


def yardstick() -> float:
    """Seconds a fixed 5M-iteration loop takes now: the VM's speed of the hour."""
    started = time.perf_counter()
    total = 0
    for n in range(5_000_000):
        total += n
    return round(time.perf_counter() - started, 3)


async def bench(root: Path, name: str, options: list[str], duration: float) -> dict[str, float]:
    report = root / f"{name}.json"
    proc = await asyncio.create_subprocess_exec(
        *CLI, "bench", "--concurrency", "32", "--duration", str(duration), "--warmup", "3",
        "--json", str(report), *options, env=environment(),
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await proc.wait() != 0:
        raise SystemExit(f"bench {name} failed")
    result = json.loads(report.read_text())
    return {
        "orders_per_s": result["orders_per_s"],
        "cpu_ms_per_order": result["store_cpu_ms_per_order"],
    }


async def enroll(root: Path, store: str) -> Path:
    join = root / f"{store}.join"
    proc = await asyncio.create_subprocess_exec(
        *CLI, "central", "enroll", store, "--data-dir", str(root / "hq"), "--out", str(join),
        env=environment(), stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await proc.wait() != 0:
        raise SystemExit("central enroll failed")
    return join


async def run(pairs: int, duration: float, office_paused: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        central = Process(
            "central",
            ["central", "run", "--headless", "--port", "0", "--leaf-port", "0",
             "--data-dir", str(root / "hq")],
        )  # fmt: skip
        runs: list[dict[str, object]] = []
        try:
            await central.start("head office running")
            for n in range(pairs):
                off = await bench(root, f"off{n}", [], duration)
                join = await enroll(root, f"store-{n}")
                office = central.proc.pid if office_paused and central.proc else None
                if office is not None:
                    os.kill(office, signal.SIGSTOP)
                try:
                    on = await bench(
                        root, f"on{n}", ["--store-option", f"chain.join={join}"], duration
                    )
                finally:
                    if office is not None:
                        os.kill(office, signal.SIGCONT)
                runs.append({"off": off, "on": on, "yardstick_s": yardstick()})
                print(json.dumps(runs[-1]), flush=True)
        finally:
            await central.stop()

    def median(side: str, key: str) -> float:
        return statistics.median(float(r[side][key]) for r in runs)  # type: ignore[index]

    def ratios(key: str) -> list[float]:
        return [round(r["on"][key] / r["off"][key], 3) for r in runs]  # type: ignore[index]

    return {
        "off": {k: median("off", k) for k in ("orders_per_s", "cpu_ms_per_order")},
        "on": {k: median("on", k) for k in ("orders_per_s", "cpu_ms_per_order")},
        "ratio_on_off_orders_per_s": ratios("orders_per_s"),
        "ratio_on_off_cpu_ms_per_order": ratios("cpu_ms_per_order"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a run")
    parser.add_argument(
        "--office-paused", action="store_true", help="stop the head office's service meanwhile"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.pairs, args.duration, args.office_paused))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

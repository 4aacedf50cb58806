"""Builds compared in turn, as this VM's drifting speed demands: each round runs
`autogrocery bench` once per build (the order reversed every other round) and prints
orders/s and store CPU per order, then the medians and, against the first build, the
median and range of the CPU ratios pair by pair. Not a test; run it from any directory:

    python -m tools.ab_bench --rounds 8 old=/path/to/checkout new=/path/to/other \\
        -- --concurrency 32 --duration 15

A build is NAME=CHECKOUT[::EXTRA BENCH ARGS] (`::--store-option=store.commit_window=0.003`
runs the same checkout with another setting).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("builds", nargs="+", help="NAME=CHECKOUT[::EXTRA ARGS]")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    given = parser.parse_args(argv[:split])
    bench_args = argv[split + 1 :] or ["--concurrency", "32", "--duration", "15"]
    builds = [_build(text) for text in given.builds]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in builds}
    out = Path(tempfile.mkdtemp(prefix="ab-bench-"))
    for n in range(given.rounds):
        for name, checkout, extra in builds if n % 2 == 0 else builds[::-1]:
            report = out / f"{name}-{n}.json"
            env = dict(os.environ, PYTHONPATH=checkout)
            command = [sys.executable, "-m", "autogrocery", "bench", *bench_args, *extra]
            started = time.strftime("%H:%M:%S")
            done = subprocess.run(  # noqa: S603 (our own interpreter, this command's args)
                [*command, "--json", str(report)],
                cwd=out,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if done.returncode != 0:
                print(f"{started} round {n} {name}: failed\n{done.stderr[-500:]}", flush=True)
                continue
            result = json.loads(report.read_text())
            pair = (result["orders_per_s"], result["store_cpu_ms_per_order"])
            runs[name].append(pair)
            print(f"{started} round {n} {name}: {pair[0]} orders/s, {pair[1]} ms", flush=True)
    _summary(runs)


def _build(text: str) -> tuple[str, str, list[str]]:
    name, _, rest = text.partition("=")
    checkout, _, extra = rest.partition("::")
    return name, checkout, extra.split()


def _summary(runs: dict[str, list[tuple[float, float]]]) -> None:
    first = next(iter(runs.values()))
    for name, pairs in runs.items():
        if not pairs:
            continue
        line = (
            f"{name}: median {statistics.median(p[0] for p in pairs):.1f} orders/s, "
            f"{statistics.median(p[1] for p in pairs):.3f} ms per order over {len(pairs)}"
        )
        ratios = [p[1] / q[1] for p, q in zip(pairs, first, strict=False)]
        if pairs is not first and ratios:
            line += (
                f"; CPU ratio to the first, pair by pair: median "
                f"{statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}"
            )
        print(line)


if __name__ == "__main__":
    main()

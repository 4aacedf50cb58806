"""`autogrocery bench`: its arguments, and the hand-over to autogrocery.bench."""

from __future__ import annotations

import argparse
from pathlib import Path

from autogrocery.cli.command import Command


def add_arguments(bench: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    target = bench.add_argument_group("target")
    target.add_argument(
        "--url",
        help="a running store (operator password in "
        "AUTOGROCERY_ADMIN_PASSWORD); default: start one",
    )
    target.add_argument(
        "--transport",
        choices=("memory", "zmq"),
        default="memory",
        help="robots in the store (memory) or in two `autogrocery robot` processes (zmq)",
    )
    target.add_argument(
        "--robots",
        type=int,
        default=1,
        metavar="N",
        help="robots per aisle (per robot process with zmq; default 1)",
    )
    target.add_argument(
        "--pick-time",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds per picked item (default 0)",
    )
    target.add_argument(
        "--store-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the started store, like -o of `run`",
    )
    load = bench.add_argument_group("load")
    mode = load.add_mutually_exclusive_group()
    mode.add_argument(
        "--concurrency",
        type=int,
        metavar="C",
        help="closed loop: C devices each ordering back to back (default 32)",
    )
    mode.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="open loop: start R orders per second whatever the store does",
    )
    load.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="measured seconds (default 10)"
    )
    load.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        metavar="S",
        help="unmeasured seconds first (default 2)",
    )
    load.add_argument("--items", type=int, default=3, help="lines per order (default 3)")
    load.add_argument("--aisles", type=int, default=3, help="aisles per order (default 3)")
    load.add_argument(
        "--devices", type=int, default=64, help="devices sharing the open-loop load (default 64)"
    )
    bench.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")


def run(args: argparse.Namespace) -> int:
    from autogrocery.bench import BenchOptions, run_bench

    for name, value in (
        ("--items", args.items),
        ("--aisles", args.aisles),
        ("--robots", args.robots),
        ("--devices", args.devices),
    ):
        if value < 1:
            return _usage(f"{name} must be >= 1")
    if args.duration <= 0 or args.warmup < 0 or args.pick_time < 0:
        return _usage("--duration must be > 0, --warmup and --pick-time >= 0")
    if args.rate is not None and args.rate <= 0:
        return _usage("--rate must be > 0")
    if args.concurrency is not None and args.concurrency < 1:
        return _usage("--concurrency must be >= 1")
    options = BenchOptions(
        url=args.url,
        concurrency=None if args.rate else (args.concurrency or 32),
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        items=args.items,
        aisles=args.aisles,
        transport=args.transport,
        robots=args.robots,
        pick_time=args.pick_time,
        devices=args.devices,
        json_path=args.json,
        store_options=tuple(args.store_option),
    )
    return run_bench(options)


def _usage(message: str) -> int:
    import sys

    print(f"autogrocery bench: {message}", file=sys.stderr)
    return 2


COMMANDS = (
    Command(
        "bench",
        "measure completed orders/s and latency end to end",
        add_arguments,
        run,
        common=False,
        description="Simulated devices register and log in once, then each order is "
        "preview + confirm, followed to COMPLETED over the WebSocket. Without --url the "
        "bench starts its own store on a temp data dir. Every run verifies the stock "
        "invariants at the end and exits 1 if one broke.",
    ),
)

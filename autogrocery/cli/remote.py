"""The commands that put robots and analytics on other hosts: `robot`, `analytics`,
`keys`. They read their flags here; the robots and the analytics are wired from their
actors and transports in `nodes.py`. Heavy modules are imported inside the commands,
so `--help` stays instant."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.cli.command import Command, log_level, store_settings, with_config

if TYPE_CHECKING:
    from autogrocery.config import Config
    from autogrocery.transports.zmqio import CurveClient


def add_robot_arguments(robot: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    robot.add_argument(
        "--aisle",
        required=True,
        help="the aisle these robots serve; several, comma-separated, for one process to "
        "serve them all (e.g. bread,meat)",
    )
    robot.add_argument(
        "--count", type=int, default=1, help="robots to run for each aisle (default 1)"
    )
    robot.add_argument(
        "--connect",
        metavar="ENDPOINT",
        help="the store's robot channel (default: zmq.robots_endpoint, tcp://127.0.0.1:5556)",
    )
    robot.add_argument(
        "--pick-time", type=float, help="seconds per item (default: robots.pick_time)"
    )
    robot.add_argument(
        "--failure-probability",
        type=float,
        help="chance a task fails (default: robots.failure_probability)",
    )
    robot.add_argument(
        "--id",
        dest="robot_id",
        metavar="PREFIX",
        help="robot ids are PREFIX-1..PREFIX-N; unique per store (default: AISLE-HOST-PID)",
    )
    _client_arguments(robot)


def add_analytics_arguments(
    analytics: argparse.ArgumentParser, common: argparse.ArgumentParser
) -> None:
    analytics.add_argument(
        "--connect",
        metavar="ENDPOINT",
        help="the store's metrics channel (default: zmq.metrics_endpoint, tcp://127.0.0.1:5557)",
    )
    analytics.add_argument(
        "--csv", metavar="FILE", help="the CSV to write (default: analytics.csv_path)"
    )
    _client_arguments(analytics)


def add_keys_arguments(keys: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    keys.add_argument(
        "names", nargs="*", metavar="NAME", help="client names (default: client-1..client-N)"
    )
    keys.add_argument(
        "--clients", type=int, default=2, metavar="N", help="clients to create without names"
    )


def _client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keys",
        metavar="DIR",
        help="CurveZMQ client keys (a clients/NAME directory made by `autogrocery keys`); "
        "turns encryption on",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback store address without CurveZMQ",
    )


def client_settings(args: argparse.Namespace) -> list[str]:
    """The overrides of `robot` and `analytics`: a store's (-o, --data-dir), then
    --insecure's."""
    overrides = store_settings(args)
    if args.insecure:
        overrides += ["zmq.insecure=true", "compat.insecure=true"]
    return overrides


def run(config: Config, args: argparse.Namespace) -> int:
    """`robot` or `analytics`: logging as configured, then the node until it stops."""
    from autogrocery.logs import configure_logging
    from autogrocery.nodes import NodeError
    from autogrocery.transports.zmqio import TransportError

    level = log_level(config, args)
    configure_logging(level, config.log.format)
    try:
        if args.command == "robot":
            return _robot(config, args)
        return _analytics(config, args)
    except (TransportError, NodeError) as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2


# --- robot ---------------------------------------------------------------------------


def _robot(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.nodes import run_robots

    pick_time = config.robots.pick_time if args.pick_time is None else args.pick_time
    failure = (
        config.robots.failure_probability
        if args.failure_probability is None
        else args.failure_probability
    )
    problem = (
        "--count must be >= 1"
        if args.count < 1
        else "--pick-time must be >= 0"
        if pick_time < 0
        else "--failure-probability must be >= 0 and < 1"
        if not 0 <= failure < 1
        else None
    )
    if problem:
        print(f"autogrocery: {problem}", file=sys.stderr)
        return 2
    host = socket.gethostname()
    aisles = [aisle.strip() for aisle in args.aisle.split(",") if aisle.strip()]
    if not aisles:
        print("autogrocery: --aisle names no aisle", file=sys.stderr)
        return 2
    several = len(aisles) > 1
    prefix = (
        args.robot_id or f"{'multi' if several else aisles[0]}-{host.split('.')[0]}-{os.getpid()}"
    )
    robots = [
        (f"{prefix}-{aisle}-{n}" if several else f"{prefix}-{n}", aisle)
        for aisle in aisles
        for n in range(1, args.count + 1)
    ]
    stop = _stop_on_signals()
    run_robots(
        config,
        robots,
        aisles,
        host=host,
        endpoint=args.connect or config.zmq.robots_endpoint,
        pick_time=pick_time,
        failure=failure,
        curve=_client_curve(config, args),
        stop=stop,
    )
    return 0


# --- analytics -----------------------------------------------------------------------


def _analytics(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.nodes import run_analytics

    csv_path = Path(args.csv).expanduser() if args.csv else config.csv_file
    stop = _stop_on_signals()
    run_analytics(
        config,
        csv_path,
        endpoint=args.connect or config.zmq.metrics_endpoint,
        curve=_client_curve(config, args),
        stop=stop,
    )
    return 0


# --- keys ----------------------------------------------------------------------------


def _keys(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.transports.curve import AUTHORIZED, CLIENTS, create_keys

    names = list(args.names) or [f"client-{n}" for n in range(1, args.clients + 1)]
    bad = [name for name in names if not name or "/" in name or name.startswith(".")]
    if bad or args.clients < 0:
        print(f"autogrocery: bad client name {bad[0] if bad else args.clients!r}", file=sys.stderr)
        return 2
    created = create_keys(config.keys_path, names)
    where = created.keys_dir
    state = "created" if created.store_new else "kept"
    print(f"store key pair ({state}): {where / 'store.key_secret'} (stays on the store's host)")
    print(f"authorized client keys: {where / AUTHORIZED} (the store admits these)")
    for name, new in created.clients.items():
        bundle = where / CLIENTS / name
        print(
            f"client {name} ({'created' if new else 'kept'}): {bundle} "
            f"(copy to the client's host; pass --keys {bundle})"
        )
    print("turn encryption on in the store with -o zmq.curve=true (or [zmq] curve = true)")
    return 0


# --- helpers -------------------------------------------------------------------------


def _client_curve(config: Config, args: argparse.Namespace) -> CurveClient | None:
    from autogrocery.transports.curve import client_keys
    from autogrocery.transports.zmqio import TransportError

    if args.keys:
        return client_keys(Path(args.keys).expanduser())
    if config.zmq.curve:
        raise TransportError("zmq: zmq.curve is on: pass --keys DIR (made by `autogrocery keys`)")
    return None


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return stop


COMMANDS = (
    Command(
        "robot",
        "run robots of one aisle for a store over ZeroMQ",
        add_robot_arguments,
        with_config(run, client_settings),
    ),
    Command(
        "analytics",
        "record a store's metrics into a CSV over ZeroMQ",
        add_analytics_arguments,
        with_config(run, client_settings),
    ),
    Command(
        "keys",
        "create CurveZMQ keys for the store and its clients",
        add_keys_arguments,
        with_config(_keys),
    ),
)

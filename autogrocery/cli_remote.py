"""The commands that put robots and analytics on other hosts: `robot`, `analytics`,
`keys`. `cli.py` adds their subparsers with `add_commands` and runs them with `run`.
Heavy modules are imported inside the commands, so `--help` stays instant."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autogrocery.config import Config
    from autogrocery.transports.zmqio import CurveClient

log = logging.getLogger("autogrocery")

COMMANDS = ("robot", "analytics", "keys")
STOP_TIMEOUT = 10.0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the `robot`, `analytics` and `keys` subparsers."""
    robot = commands.add_parser(
        "robot", parents=[common], help="run robots of one aisle for a store over ZeroMQ"
    )
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

    analytics = commands.add_parser(
        "analytics", parents=[common], help="record a store's metrics into a CSV over ZeroMQ"
    )
    analytics.add_argument(
        "--connect",
        metavar="ENDPOINT",
        help="the store's metrics channel (default: zmq.metrics_endpoint, tcp://127.0.0.1:5557)",
    )
    analytics.add_argument(
        "--csv", metavar="FILE", help="the CSV to write (default: analytics.csv_path)"
    )
    _client_arguments(analytics)

    keys = commands.add_parser(
        "keys", parents=[common], help="create CurveZMQ keys for the store and its clients"
    )
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


def run(config: Config, args: argparse.Namespace) -> int:
    if args.command == "keys":
        return _keys(config, args)
    from autogrocery.logs import configure_logging
    from autogrocery.transports.zmqio import TransportError

    level = "DEBUG" if args.verbose else "WARNING" if args.quiet else config.log.level
    configure_logging(level, config.log.format)
    try:
        if args.command == "robot":
            return _robot(config, args)
        return _analytics(config, args)
    except TransportError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2


def exposure(config: Config) -> str | None:
    """Why `autogrocery run` must not bind its ZeroMQ endpoints, or None."""
    from autogrocery.transports.zmqio import exposure_problem

    z = config.zmq
    for channel, endpoint in (
        (config.transport.robots, z.robots_endpoint),
        (config.transport.metrics, z.metrics_endpoint),
    ):
        problem = exposure_problem(endpoint, z.curve, z.insecure) if channel == "zmq" else None
        if problem is not None:
            return problem
    return None


# --- robot ---------------------------------------------------------------------------


def _robot(config: Config, args: argparse.Namespace) -> int:
    import pykka

    from autogrocery.actors.robot import RobotActor
    from autogrocery.domain.messages.fulfilment import RobotTask, WithdrawTasks
    from autogrocery.transports.heartbeat import Heartbeat
    from autogrocery.transports.zmq_robot_client import RobotLink

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
    aisle_of = dict(robots)
    endpoint = args.connect or config.zmq.robots_endpoint
    stop = _stop_on_signals()
    stopping = threading.Event()
    refs: dict[str, pykka.ActorRef[Any]] = {}
    z = config.zmq

    def deliver(robot_id: str, task: RobotTask) -> None:
        try:
            refs[robot_id].tell(task)
        except (KeyError, pykka.ActorDeadError):
            log.warning("robot %s is restarting; task %s comes back", robot_id, task.task_id)

    def withdraw(robot_id: str, task_ids: list[str]) -> None:
        with contextlib.suppress(KeyError, pykka.ActorDeadError):
            refs[robot_id].tell(WithdrawTasks(tuple(task_ids)))

    refused: list[str] = []

    def refuse(robot_id: str, reason: str) -> None:
        refused.append(reason)
        stop.set()  # an aisle the store does not have will not appear by retrying

    link = RobotLink(
        endpoint,
        robots,
        host,
        deliver,
        withdraw,
        heartbeat=Heartbeat(z.heartbeat_interval, z.heartbeat_misses),
        ack_timeout=z.ack_timeout,
        curve=_client_curve(config, args),
        insecure=z.insecure,
        on_refused=refuse,
    )

    def start(robot_id: str) -> None:
        refs[robot_id] = RobotActor.start(
            robot_id, aisle_of[robot_id], link, pick_time, failure, stopping, None, died
        )

    def died(actor: Any) -> None:
        if stopping.is_set():
            return
        log.error("robot %s died; restarting it", actor.robot_id)
        start(actor.robot_id)
        link.rejoin(actor.robot_id)  # the store hands it its tasks again

    for robot_id in aisle_of:
        start(robot_id)
    link.start()
    log.info("%d robot(s) for %s connecting to %s", len(robots), ", ".join(aisles), endpoint)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("robots stopping")
        stopping.set()
        link.close()  # says bye, so the store re-dispatches at once
        for ref in refs.values():
            _stop(ref)
    if refused:
        print(f"autogrocery: robot: {refused[0]}", file=sys.stderr)
        return 2
    return 0


# --- analytics -----------------------------------------------------------------------


def _analytics(config: Config, args: argparse.Namespace) -> int:
    import pykka

    from autogrocery.actors.analytics import AnalyticsActor
    from autogrocery.actors.analytics_storage import CsvLatencies, check_csv_path
    from autogrocery.actors.replies import Batch, call
    from autogrocery.domain.errors import Unavailable
    from autogrocery.domain.messages.analytics import LastSeq, Metric
    from autogrocery.transports.heartbeat import Heartbeat
    from autogrocery.transports.zmq_metrics import MetricsFeed

    csv_path = Path(args.csv).expanduser() if args.csv else config.csv_file
    endpoint = args.connect or config.zmq.metrics_endpoint
    z = config.zmq
    stop = _stop_on_signals()

    def record(metrics: list[Metric]) -> None:  # called once the feed runs: `ref` is set
        try:
            ref.tell(Batch(metrics))
        except pykka.ActorDeadError:
            stop.set()

    # Refuse a bad endpoint or missing keys before the CSV (or its directory) exists.
    feed = MetricsFeed(
        endpoint,
        record,
        heartbeat=Heartbeat(z.heartbeat_interval, z.heartbeat_misses),
        curve=_client_curve(config, args),
        insecure=z.insecure,
    )

    try:
        check_csv_path(csv_path)
    except OSError as exc:
        print(f"autogrocery: cannot write {csv_path}: {exc}", file=sys.stderr)
        feed.stop_loop()
        return 2

    def died(actor: Any) -> None:
        log.critical("analytics died; stopping")
        stop.set()

    ref = AnalyticsActor.start(CsvLatencies(csv_path), died)
    try:
        after = int(call(ref, LastSeq(), STOP_TIMEOUT))
    except (Unavailable, OSError) as exc:
        print(f"autogrocery: cannot open {csv_path}: {exc}", file=sys.stderr)
        feed.stop_loop()
        _stop(ref)
        return 2
    feed.start(after)
    log.info("analytics writing %s from seq %d, fed by %s", csv_path, after, endpoint)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        feed.stop_loop()
        _stop(ref)
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


def _stop(ref: Any) -> None:
    import pykka

    try:
        ref.stop(block=True, timeout=STOP_TIMEOUT)
    except pykka.Timeout:
        log.error("%s did not stop within %.0fs", ref, STOP_TIMEOUT)

"""`autogrocery central`: run a chain's head office, or enrol a store into it.

    autogrocery central run [--data-dir D] [--port 5060] [--host H] [--leaf-port 7422]
    autogrocery central enroll STORE_ID [--data-dir D] [--out FILE] [--rotate]

Heavy modules (aiohttp, nats, cryptography) are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.cli.command import Command, log_level, with_config

if TYPE_CHECKING:
    import socket

    from autogrocery.config import Config

log = logging.getLogger("autogrocery.central")

STOP_BOUND = 30.0  # seconds a stop may take (API, worker, hub) before the process gives up


DB_HELP = (
    "the read model's PostgreSQL database, postgresql://USER@HOST:PORT/DB (central.db; "
    "default: the SQLite file in the data dir); the password from PGPASSWORD or ~/.pgpass"
)


def add_arguments(central: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        parents=[common],
        help="run the head office: the hub nats-server and the chain's API",
        description="The head office: the hub nats-server (stores' leaf links), the applier "
        "of every store's events, the sender of transfers and catalog versions, and the API "
        "(default 127.0.0.1:5060). --data-dir sets central.data_dir.",
    )
    run.add_argument(
        "--host",
        help="address of the API and of the leaf listener (central.host and "
        "central.leaf_host; default 127.0.0.1)",
    )
    run.add_argument("--leaf-host", help="address of the leaf listener only (central.leaf_host)")
    run.add_argument("--db", metavar="URL", help=DB_HELP)
    run.add_argument("--port", type=int, help="API port (central.port, 5060; 0 = any free)")
    run.add_argument(
        "--leaf-port", type=int, help="leaf port (central.leaf_port, 7422; 0 = any free)"
    )
    run.add_argument(
        "--headless",
        action="store_true",
        help="log JSON lines to stderr (the head office has no dashboard yet: it always runs "
        "headless)",
    )
    enroll = actions.add_parser(
        "enroll",
        parents=[common],
        help="enrol a store: write its join file (a secret, 0600)",
        description="Enrol STORE_ID and write its join file: its credentials (which can only "
        "publish as this store), the hub's leaf URL and the CA it must trust. A running head "
        "office takes the new store at once; a stopped one at its next start.",
    )
    enroll.add_argument("store_id", metavar="STORE_ID", help="1-32 letters, digits, '_' or '-'")
    enroll.add_argument("--db", metavar="URL", help=DB_HELP)
    enroll.add_argument("--out", metavar="FILE", help="the join file (default: STORE_ID.join)")
    enroll.add_argument(
        "--rotate",
        action="store_true",
        help="give an enrolled store new credentials; its old ones stop working at once",
    )
    enroll.add_argument(
        "--hub",
        action="append",
        metavar="URL",
        help="a leaf URL (nats-leaf://HOST:PORT) to write instead of the one the head office "
        "advertises (repeatable)",
    )


def settings(args: argparse.Namespace) -> list[str]:
    """The overrides of `central`'s flags: -o's, then the head office's own settings."""
    overrides = list(args.overrides)
    if args.data_dir:
        overrides.append(f"central.data_dir={args.data_dir}")
    if args.db:
        overrides.append(f"central.db={args.db}")
    if args.central_command == "run":
        if args.host:
            overrides += [f"central.host={args.host}", f"central.leaf_host={args.host}"]
        if args.leaf_host:
            overrides.append(f"central.leaf_host={args.leaf_host}")
        if args.port is not None:
            overrides.append(f"central.port={args.port}")
        if args.leaf_port is not None:
            overrides.append(f"central.leaf_port={args.leaf_port}")
    return overrides


def run(config: Config, args: argparse.Namespace) -> int:
    if args.central_command == "enroll":
        return _enroll(config, args)
    return _run(config, args)


def _fail(message: str) -> int:
    print(f"autogrocery: {message}", file=sys.stderr)
    return 2


def _enroll(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.central.enroll import EnrolError, enroll
    from autogrocery.central.readmodel import ReadModelError
    from autogrocery.central.schema import SchemaError
    from autogrocery.central.tls import TlsError

    out = Path(args.out).expanduser() if args.out else None
    try:
        done = enroll(config.central, args.store_id, out=out, rotate=args.rotate, hub=args.hub)
    except (EnrolError, TlsError, ReadModelError, SchemaError, RuntimeError) as exc:
        return _fail(" ".join(str(exc).split()))
    except OSError as exc:
        return _fail(f"{exc.filename or config.central.data_path()}: {exc.strerror or exc}")
    verb = "gave new credentials to" if args.rotate else "enrolled"
    print(f"autogrocery: {verb} store {done.store_id}; its join file is {done.join_file} (0600)")
    if done.shards > 1 or done.shard:
        print(f"  its events go through intake shard {done.shard} of {done.shards}")
    print(f"  copy it to the store and run: autogrocery run --join {done.join_file.name}")
    if done.told_pid:
        print(f"  the running head office (pid {done.told_pid}) takes it now")
    else:
        print("  the head office takes it when it starts (`autogrocery central run`)")
    return 0


def _run(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.api.serving import bind
    from autogrocery.central.layout import exposure_problem
    from autogrocery.datadir import DataDirBusy, hold

    c = config.central
    if problem := exposure_problem(c):
        return _fail(problem)
    try:
        sockets = bind(c.host, c.port)  # the API's address first: a busy port fails first
    except OSError as exc:
        return _fail(f"cannot listen on {c.host}:{c.port}: {exc.strerror or exc}")
    try:
        with hold(c.data_path(), "central"):  # one head office per data dir
            return _run_held(config, args, sockets)
    except DataDirBusy as exc:
        for sock in sockets:
            sock.close()
        return _fail(str(exc).replace("a store is running", "a head office or store is running"))


def _run_held(config: Config, args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    from autogrocery.central.service import StartupError
    from autogrocery.logs import configure_logging
    from autogrocery.loop import run as run_loop

    level = log_level(config, args)
    configure_logging(level, config.log.format, rotation=config.log)
    if not args.headless:
        log.info("the head office has no dashboard yet: running headless")
    try:
        return run_loop(_serve(config, sockets))
    except StartupError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


async def _serve(config: Config, sockets: list[socket.socket]) -> int:
    import asyncio
    import signal

    from autogrocery.central.service import CentralService

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    service = CentralService(config, sockets)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # SIGHUP: `central enroll` enrolled or rotated a store; reload the hub now.
    loop.add_signal_handler(signal.SIGHUP, service.enrolment_changed)
    await service.start()
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        try:
            await asyncio.wait_for(service.stop(), STOP_BOUND)
        except TimeoutError:
            log.error("the head office did not stop within %gs", STOP_BOUND)
            return 1
    return 0


COMMANDS = (
    Command(
        "central",
        "run a chain's head office, or enrol a store into it (docs/chain.md)",
        add_arguments,
        with_config(run, settings),
        common=False,
    ),
)

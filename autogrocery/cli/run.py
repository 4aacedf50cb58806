"""`autogrocery run`: the store, its API and (with `--join`) its chain link, headless
here; with the dashboard or the simulator, `run_dashboard.py` takes over. Its start
fails first, in one line (`run_start.py`): the ZeroMQ and the original devices'
exposure, then the API's port, then the data dir, each refused with exit status 2."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.cli import run_dashboard
from autogrocery.cli.command import Command, log_level, store_settings, with_config
from autogrocery.loop import run as run_loop

if TYPE_CHECKING:
    import socket

    from autogrocery.config import Config

log = logging.getLogger("autogrocery")


def add_arguments(run: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    run.add_argument("--host", help="API address to listen on (default: api.host, 127.0.0.1)")
    run.add_argument("--port", type=int, help="API port (default: api.port, 5050; 0 = any free)")
    run.add_argument(
        "--headless",
        action="store_true",
        help="run without the dashboard (logs JSON lines to stderr)",
    )
    run.add_argument(
        "--insecure",
        action="store_true",
        help="allow ZeroMQ on a non-loopback address without CurveZMQ (zmq.insecure), and "
        "the original truck UI without credentials on a non-loopback API address "
        "(compat.insecure)",
    )
    run.add_argument(
        "--compat",
        choices=["original"],
        help="also serve the original Auto Grocery devices' API (/api/client/*, "
        "/api/truck/*) on the same port (compat.original)",
    )
    run.add_argument(
        "--init",
        action="store_true",
        help="start an empty store in a data dir whose database is missing (its keys and "
        "files say a store lived there)",
    )
    run.add_argument(
        "--join",
        metavar="FILE",
        help="join a chain of stores with the join file `autogrocery central enroll` wrote "
        "(chain.join): the store runs a NATS leaf node and reports to its head office",
    )
    simulate = run.add_mutually_exclusive_group()
    simulate.add_argument(
        "--simulate",
        nargs="?",
        type=float,
        const=run_dashboard.DEFAULT_RATE,
        metavar="RATE",
        help="simulated fridges and trucks order and restock over the API at RATE orders/s "
        f"(default {run_dashboard.DEFAULT_RATE:g}); on by default with the dashboard, off "
        "when headless",
    )
    simulate.add_argument(
        "--no-simulate", dest="simulate", action="store_const", const=0.0, help="no simulator"
    )


def settings(args: argparse.Namespace) -> list[str]:
    """The overrides of `run`: a store's (-o, --data-dir), then its own flags'."""
    overrides = store_settings(args)
    if args.host:
        overrides.append(f"api.host={args.host}")
    if args.port is not None:
        overrides.append(f"api.port={args.port}")
    if args.insecure:
        overrides += ["zmq.insecure=true", "compat.insecure=true"]
    if args.compat == "original":
        overrides.append("compat.original=true")
    if args.join:
        overrides.append(f"chain.join={Path(args.join).expanduser().resolve()}")
    return overrides


def _run(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.cli.run_start import StartupError, prepare
    from autogrocery.datadir import DataDirBusy, hold

    if problem := _zmq_exposure(config) or _compat_exposure(config):
        print(f"autogrocery: {problem}", file=sys.stderr)
        return 2
    try:
        sockets = prepare(config)  # the port first, then the data dir: fail first
    except StartupError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    try:
        with hold(config.data_path):  # one store per data dir
            return _run_held(config, args, sockets)
    except DataDirBusy as exc:
        for sock in sockets:
            sock.close()
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2


def _zmq_exposure(config: Config) -> str | None:
    """Why `autogrocery run` must not bind its ZeroMQ endpoints, or None."""
    if "zmq" not in (config.transport.robots, config.transport.metrics):
        return None  # and ZeroMQ is not imported: 56 ms of a start
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


def _compat_exposure(config: Config) -> str | None:
    if not config.compat.original:
        return None
    from autogrocery.api.compat import exposure

    return exposure(config)


def _run_held(config: Config, args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    from autogrocery.cli.run_start import StartupError

    if run_dashboard.takes_over(args):  # the dashboard, or the simulator
        return run_dashboard.run(config, args, sockets)
    from autogrocery.logs import configure_logging

    level = log_level(config, args)
    configure_logging(level, config.log.format, rotation=config.log)
    try:
        return run_loop(_serve(config, sockets, init=args.init))
    except StartupError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _serve(config: Config, sockets: list[socket.socket], *, init: bool = False) -> int:
    from autogrocery.cli.run_start import serving

    async with serving(config, sockets, init=init) as (_, stop):
        await stop.wait()
        log.info("shutting down")
    return 0


COMMANDS = (Command("run", "run the store", add_arguments, with_config(_run, settings)),)

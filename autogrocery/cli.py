"""The `autogrocery` command. Heavy modules are imported lazily so `--help` is instant."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery import (
    __version__,
    cli_accounts,
    cli_attach,
    cli_backup,
    cli_bench,
    cli_central,
    cli_check,
    cli_dashboard,
    cli_remote,
)
from autogrocery.loop import run as run_loop

if TYPE_CHECKING:
    import socket

    from autogrocery.config import Config

log = logging.getLogger("autogrocery")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autogrocery", description="A whole automated grocery store in one process."
    )
    parser.add_argument("--version", action="version", version=f"autogrocery {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: ./config.toml if present, else the packaged defaults)",
    )
    common.add_argument(
        "-o",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. -o robots.per_aisle=2 (repeatable)",
    )
    common.add_argument("--data-dir", help="shortcut for -o store.data_dir=DIR")
    verbosity = common.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", parents=[common], help="run the store")
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
    cli_dashboard.add_run_arguments(run)

    config = commands.add_parser("config", parents=[common], help="inspect configuration")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_commands.add_parser("show", parents=[common], help="print the effective configuration")
    cli_remote.add_commands(commands, common)
    cli_attach.add_commands(commands, common)
    cli_accounts.add_commands(commands, common)
    cli_check.add_command(commands, common)
    cli_backup.add_commands(commands, common)
    cli_bench.add_command(commands)
    cli_central.add_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _command(argv)
    except KeyboardInterrupt:  # Ctrl-C before the store took SIGINT over: a quiet stop
        return 130


def _command(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        return cli_bench.run(args)
    if args.command in cli_central.COMMANDS:
        return cli_central.main(args)
    from autogrocery.config import ConfigError, load_config

    overrides = list(args.overrides)
    if args.command == "run" and args.host:
        overrides.append(f"api.host={args.host}")
    if args.command == "run" and args.port is not None:
        overrides.append(f"api.port={args.port}")
    if args.data_dir:
        overrides.append(f"store.data_dir={args.data_dir}")
    if getattr(args, "insecure", False):
        overrides += ["zmq.insecure=true", "compat.insecure=true"]
    if getattr(args, "compat", None) == "original":
        overrides.append("compat.original=true")
    if getattr(args, "join", None):
        overrides.append(f"chain.join={Path(args.join).expanduser().resolve()}")
    try:
        config = load_config(args.config, overrides=overrides, use_cwd=True)
    except ConfigError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    if args.command == "config":
        return _show_config(config)
    if args.command in cli_check.COMMANDS:
        return cli_check.run(config, args)
    if args.command in cli_backup.COMMANDS:
        return cli_backup.run(config, args)
    if args.command in cli_remote.COMMANDS:
        return cli_remote.run(config, args)
    if args.command in cli_attach.COMMANDS:
        return cli_attach.attach(config, args)
    if args.command in cli_accounts.COMMANDS:
        return cli_accounts.run(config, args)
    if problem := cli_remote.exposure(config) or _compat_exposure(config):
        print(f"autogrocery: {problem}", file=sys.stderr)
        return 2
    return _run(config, args)


def _compat_exposure(config: Config) -> str | None:
    if not config.compat.original:
        return None
    from autogrocery.api.compat import exposure

    return exposure(config)


def _show_config(config: Config) -> int:
    """The effective settings as TOML: paths resolved, secrets only said to be set."""
    from autogrocery.config import shown

    values, notes = shown(config)
    for section, table in values.items():
        print(f"[{section}]")
        for key, value in table.items():
            print(f"{key} = {_toml_value(value)}")
        for name, note in notes.items():
            if name.startswith(f"{section}."):
                print(f"# {name.partition('.')[2]}: {note}")
        print()
    return 0


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _run(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.cli_start import StartupError, prepare
    from autogrocery.datadir import DataDirBusy, hold

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


def _run_held(config: Config, args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    from autogrocery.cli_start import StartupError

    if cli_dashboard.takes_over(args):  # the dashboard, or the simulator
        return cli_dashboard.run(config, args, sockets)
    from autogrocery.logs import configure_logging

    level = "DEBUG" if args.verbose else "WARNING" if args.quiet else config.log.level
    configure_logging(level, config.log.format, rotation=config.log)
    try:
        return run_loop(_serve(config, sockets, init=args.init))
    except StartupError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _serve(config: Config, sockets: list[socket.socket], *, init: bool = False) -> int:
    from autogrocery.cli_start import serving

    async with serving(config, sockets, init=init) as (_, stop):
        await stop.wait()
        log.info("shutting down")
    return 0

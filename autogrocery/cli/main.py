"""The `autogrocery` command: the parser built from every command's `COMMANDS`, in the
order `--help` lists them, and `main`, which runs the one chosen. Heavy modules are
imported lazily, inside the commands, so `--help` is instant."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from autogrocery import __version__
from autogrocery.cli import (
    accounts,
    backup,
    bench,
    central,
    check,
    config,
    dashboard,
    remote,
    run,
)
from autogrocery.cli.command import Command

COMMANDS: tuple[Command, ...] = (
    *run.COMMANDS,
    *config.COMMANDS,
    *remote.COMMANDS,
    *dashboard.COMMANDS,
    *accounts.COMMANDS,
    *check.COMMANDS,
    *backup.COMMANDS,
    *bench.COMMANDS,
    *central.COMMANDS,
)


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
    for command in COMMANDS:
        subparser = commands.add_parser(
            command.name,
            parents=[common] if command.common else [],
            help=command.help,
            description=command.description,
        )
        command.add_arguments(subparser, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _command(argv)
    except KeyboardInterrupt:  # Ctrl-C before the store took SIGINT over: a quiet stop
        return 130


def _command(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    chosen = next(command for command in COMMANDS if command.name == args.command)
    return chosen.run(args)

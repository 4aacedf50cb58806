"""What one `autogrocery` command is, for the registry in `cli/main.py`: its name and
help line, its arguments, and what it runs. Each command module declares its own
`COMMANDS`; `with_config` gives a command the store's configuration (its layers, then
the overrides the command's flags make), or one line and exit status 2 for a bad one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autogrocery.config import Config

Run = Callable[[argparse.Namespace], int]
Settings = Callable[[argparse.Namespace], list[str]]


@dataclass(frozen=True, slots=True)
class Command:
    """`autogrocery NAME`: `add_arguments(parser, common)` declares its arguments
    (`common` is the parent parser of --config, -o, --data-dir and -v/-q, for the
    subparsers of its actions), and `run(args)` does it and returns the exit status.
    `common`: the command itself takes those options."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser, argparse.ArgumentParser], None]
    run: Run
    common: bool = True
    description: str | None = None


def log_level(config: Config, args: argparse.Namespace) -> str:
    """The level a command logs at: -v (DEBUG) or -q (WARNING) over `log.level`."""
    return "DEBUG" if args.verbose else "WARNING" if args.quiet else config.log.level


def interactive() -> bool:
    """Whether a person is at this terminal (stdin and stdout are both a tty)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def store_settings(args: argparse.Namespace) -> list[str]:
    """The overrides of a command on a store's configuration: -o's, then --data-dir's."""
    overrides = list(args.overrides)
    if args.data_dir:
        overrides.append(f"store.data_dir={args.data_dir}")
    return overrides


def with_config(
    run: Callable[[Config, argparse.Namespace], int], settings: Settings = store_settings
) -> Run:
    """`run` on the configuration loaded with the overrides `settings` makes of the
    command's arguments."""

    def configured(args: argparse.Namespace) -> int:
        from autogrocery.config import ConfigError, load_config

        try:
            config = load_config(args.config, overrides=settings(args), use_cwd=True)
        except ConfigError as exc:
            print(f"autogrocery: {exc}", file=sys.stderr)
            return 2
        return run(config, args)

    return configured

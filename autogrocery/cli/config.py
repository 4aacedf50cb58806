"""`autogrocery config show`: the effective configuration, as TOML."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from autogrocery.cli.command import Command, with_config

if TYPE_CHECKING:
    from autogrocery.config import Config


def add_arguments(config: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_commands.add_parser("show", parents=[common], help="print the effective configuration")


def _show_config(config: Config, args: argparse.Namespace) -> int:
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


COMMANDS = (Command("config", "inspect configuration", add_arguments, with_config(_show_config)),)

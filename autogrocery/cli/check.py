"""`autogrocery check`: is a store's database sound? SQLite's own `PRAGMA
integrity_check` (or the faster `quick_check`) on the data dir's database, opened
read-only: it may run beside a running store, and it changes nothing."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from typing import TYPE_CHECKING

from autogrocery.cli.command import Command, with_config

if TYPE_CHECKING:
    from autogrocery.config import Config


def add_arguments(check: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--quick",
        action="store_true",
        help="PRAGMA quick_check instead of integrity_check: faster, skips index contents",
    )


def run(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.store.db import DB_NAME

    db = config.data_path / DB_NAME
    if not db.is_file():
        print(f"autogrocery: no store in {config.data_path} (no {DB_NAME})", file=sys.stderr)
        return 1
    pragma = "quick_check" if args.quick else "integrity_check"
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
        try:
            found = [row[0] for row in conn.execute(f"PRAGMA {pragma}")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        print(f"autogrocery: {db}: {exc}", file=sys.stderr)
        return 1
    # A row may hold several lines; "*** in database main ***" heads the list.
    problems = [
        line for row in found if row != "ok" for line in row.splitlines() if "***" not in line
    ]
    if not problems:
        print(f"{db}: ok")
        return 0
    print(f"{db}: {len(problems)} problem(s) found by PRAGMA {pragma}:")
    for line in problems:
        print(f"  {line}")
    return 1


COMMANDS = (
    Command(
        "check",
        "check the store's database for damage (exit status 0: sound, 1: not)",
        add_arguments,
        with_config(run),
    ),
)

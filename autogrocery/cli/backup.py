"""`autogrocery backup` and `autogrocery restore`: a copy of a store that outlives its
machine, and the way back (replicate/files.py, replicate/litestream.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.cli.command import Command, with_config

if TYPE_CHECKING:
    from autogrocery.config import Config


def add_backup_arguments(backup: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    backup.add_argument("dest", metavar="DEST", help="a directory that does not exist yet")


def add_restore_arguments(
    restore: argparse.ArgumentParser, common: argparse.ArgumentParser
) -> None:
    source = restore.add_mutually_exclusive_group(required=True)
    source.add_argument("backup", metavar="BACKUP", nargs="?", help="a directory `backup` made")
    source.add_argument(
        "--from-replica",
        action="store_true",
        help="the latest state of the database in the replica that [replicate] url names",
    )
    restore.add_argument(
        "--timestamp",
        metavar="TIME",
        help="with --from-replica: the state as of TIME (RFC 3339, e.g. 2026-11-30T18:00:00Z)",
    )
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore over a stopped store's files, moving them aside into replaced-<time>/",
    )


def run_backup(config: Config, args: argparse.Namespace) -> int:
    return _backup(config, Path(args.dest).expanduser())


def run_restore(config: Config, args: argparse.Namespace) -> int:
    if args.timestamp and not args.from_replica:
        return _fail("--timestamp goes with --from-replica", 2)
    if args.from_replica:
        return _restore_replica(config, args.force, args.timestamp)
    return _restore_backup(config, Path(args.backup).expanduser(), args.force)


def _backup(config: Config, dest: Path) -> int:
    from autogrocery.replicate.files import backup
    from autogrocery.store.backup import BackupError

    try:
        made = backup(config.data_path, dest, keys=config.keys_path, csv=config.csv_file)
    except BackupError as exc:
        return _fail(str(exc), 2)
    db = made.database
    print(
        f"backed up {config.data_path} into {dest}: the database ({made.orders} orders and "
        f"restocks, {db.bytes / 1048576:.1f} MiB, copied in {db.seconds:.2f}s, the longest "
        f"step {db.longest_step * 1000:.0f} ms) and {len(made.files)} file(s): "
        + (", ".join(made.files) or "none")
    )
    return 0


def _restore_backup(config: Config, source: Path, force: bool) -> int:
    from autogrocery.replicate.files import RestoreError, restore_backup

    try:
        done = restore_backup(
            source, config.data_path, keys=config.keys_path, csv=config.csv_file, force=force
        )
    except RestoreError as exc:
        return _fail(str(exc), 2 if exc.refused else 1)
    _restored(config, f"the backup {source}", done.orders, done.moved_aside)
    return 0


def _restore_replica(config: Config, force: bool, timestamp: str | None) -> int:
    from autogrocery.replicate.files import RestoreError, restore_replica
    from autogrocery.replicate.litestream import (
        Replica,
        ReplicationError,
        find_litestream,
        restore,
    )
    from autogrocery.store.db import DB_NAME

    url = config.replicate.replica_url()
    if url is None:
        return _fail("no replica to restore from: set [replicate] url (or -o replicate.url=)", 2)
    try:
        binary = find_litestream(config.replicate.litestream or None)
        db = config.data_path.resolve() / DB_NAME
        replica = Replica(binary, db, url, config.replicate.sync_interval)
        done = restore_replica(
            config.data_path, force=force, fetch=lambda out: restore(replica, out, timestamp)
        )
    except ReplicationError as exc:
        return _fail(str(exc), 1)
    except RestoreError as exc:
        return _fail(str(exc), 2 if exc.refused else 1)
    _restored(config, f"the replica {url}", done.orders, done.moved_aside)
    print(
        "  the replica holds the database only: a jwt.key or keys/ lost with the machine "
        "are made anew at start (devices log in again; `autogrocery keys` for robots on "
        "other hosts)"
    )
    return 0


def _restored(config: Config, source: str, orders: int, aside: Path | None) -> None:
    moved = f"; what it replaced is in {aside}" if aside is not None else ""
    print(
        f"restored {source} into {config.data_path}: {orders} orders and restocks{moved}. "
        f"Start it with `autogrocery run --data-dir {config.data_path}`: it finishes the "
        "work in flight at the moment of the copy"
    )


def _fail(message: str, status: int) -> int:
    print(f"autogrocery: {message}", file=sys.stderr)
    return status


COMMANDS = (
    Command(
        "backup",
        "copy the store (running or not) into a new directory: its database as of one "
        "moment, its keys and files, and a manifest",
        add_backup_arguments,
        with_config(run_backup),
    ),
    Command(
        "restore",
        "bring a store back into its data dir from a backup, or from its replica",
        add_restore_arguments,
        with_config(run_restore),
    ),
)

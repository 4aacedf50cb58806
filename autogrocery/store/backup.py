"""A consistent copy of a running store's database, without holding the store up.

SQLite's online backup API, in steps, from a read-only connection of its own that
first pins one read snapshot (a read transaction). In WAL mode a reader never blocks a
writer, so the store's commits go on between (and during) the steps; and since the
snapshot stays pinned across steps, the copy is the database as it was at that one
moment, never a mix (without the pin, a write by another connection between two steps
restarts the backup from the first page, which under a steady load never ends). The
one cost: while the copy runs, checkpoints cannot pass the pinned snapshot, so the WAL
grows by what the store writes meanwhile.

The copy is written beside its destination, checked (`PRAGMA quick_check`), made a
single file (journal mode DELETE: no -wal beside it), fsynced, then renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STEP_PAGES = 256  # 1 MiB at 4 KiB pages: a step is a millisecond or two of I/O


class BackupError(Exception):
    """The copy could not be made; one line naming the file and the cause."""


@dataclass(frozen=True, slots=True)
class Copied:
    path: Path
    pages: int
    bytes: int
    seconds: float
    longest_step: float  # the longest a step held the copy's own connection


def copy_database(
    source: Path,
    dest: Path,
    *,
    step_pages: int = STEP_PAGES,
    on_step: Callable[[int, int], None] | None = None,
) -> Copied:
    """Copy the database at `source` (a live store's, or any) to `dest`, which must not
    exist; `on_step(remaining, total)` pages after each step. Raises BackupError."""
    if dest.exists():
        raise BackupError(f"{dest} exists already")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        src = sqlite3.connect(
            f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=10.0
        )
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source}: {exc}") from None
    longest = 0.0
    try:
        out = sqlite3.connect(partial, isolation_level=None)
        try:
            src.execute("BEGIN")  # the snapshot: every step reads this one moment
            src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            last = time.perf_counter()

            def progress(_status: int, remaining: int, total: int) -> None:
                nonlocal last, longest
                now = time.perf_counter()
                longest = max(longest, now - last)
                if on_step is not None:
                    on_step(remaining, total)
                last = time.perf_counter()

            src.backup(out, pages=step_pages, progress=progress)
            src.execute("COMMIT")
            pages = out.execute("PRAGMA page_count").fetchone()[0]
            out.execute("PRAGMA journal_mode=DELETE")
            problems = [row[0] for row in out.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupError(f"the copy of {source} fails its check: {problems[:3]}")
        finally:
            out.close()
        fsync_path(partial)
        os.replace(partial, dest)
        fsync_path(dest.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source} to {dest}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        src.close()
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return Copied(dest, pages, dest.stat().st_size, time.perf_counter() - started, longest)


def fsync_path(path: Path) -> None:
    """Make a file's or a directory's contents (a rename into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""A backup of a whole data dir, and restores (from a backup, or from the replica).

`backup` copies, into a new directory:

- the database, consistent as of one moment, without holding the store up
  (store/backup.py), as `autogrocery.db`, one file;
- every other file of the data dir that a store needs to come back as it was: `jwt.key`
  (so the tokens handed out still open), `keys/` (the CurveZMQ keys: robots and analytics
  on other hosts keep their keys), `latency.csv`, `dashboard-accounts.json`, and a chain
  store's `chain/` (the leaf's config and CA). The CSV and keys are taken from where the
  config puts them, in the data dir or not;
- `MANIFEST.json`: when, from where, which version, and each file's size and SHA-256.

It leaves out what is rebuilt or is no state: the WAL and shared memory (the copy holds
what they held), the lock, logs, Litestream's working files, and the chain leaf's
JetStream store (`chain/leaf/js`: the relay publishes again, under a new epoch, what the
head office has not confirmed). The files are copied before the database, so the CSV
is never ahead of it (the store writes the rows the CSV lacks at start).

A restore writes into the data dir only while it holds the data dir's lock, so never
beside a running store, and never over a store's database unless told (`force`): then
the files it replaces are moved aside into `replaced-<time>/` first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from autogrocery.datadir import LOCK_FILE, DataDirBusy, hold
from autogrocery.store.backup import BackupError, Copied, copy_database, fsync_path
from autogrocery.store.db import DB_NAME

MANIFEST = "MANIFEST.json"
FORMAT = 1
_NOT_STATE = {DB_NAME + "-wal", DB_NAME + "-shm", LOCK_FILE, "litestream", "chain/leaf/js"}


class RestoreError(Exception):
    """A restore refused or failed; one line. `refused`: nothing was touched."""

    def __init__(self, message: str, *, refused: bool = True) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True, slots=True)
class Made:
    dest: Path
    database: Copied
    files: list[str]
    orders: int


def backup(
    data: Path,
    dest: Path,
    *,
    keys: Path,
    csv: Path,
    on_step: Callable[[int, int], None] | None = None,
) -> Made:
    """Back the store in `data` up into `dest` (a new directory). Raises BackupError."""
    db = data / DB_NAME
    if not db.is_file():
        raise BackupError(f"no store in {data} (no {DB_NAME})")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty directory")
    if dest.resolve().is_relative_to(data.resolve()):
        raise BackupError(f"{dest} is inside the data directory {data}: put it elsewhere")
    work = dest.with_name(dest.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        files = [_copy(src, work, rel) for rel, src in _state_files(data, keys, csv)]
        copied = copy_database(db, work / DB_NAME, on_step=on_step)
        orders, version = _describe(work / DB_NAME)
        manifest = {
            "format": FORMAT,
            "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": str(data.resolve()),
            "autogrocery": _version(),
            "database": {"file": DB_NAME, "bytes": copied.bytes, "schema": version},
            "files": [_entry(work, rel) for rel in files],
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except OSError as exc:
        raise BackupError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Made(dest, copied, files, orders)


def _state_files(data: Path, keys: Path, csv: Path) -> Iterator[tuple[str, Path]]:
    """(name in the backup, file) for every file of the store but its database."""
    for path in sorted(data.rglob("*")):
        rel = path.relative_to(data).as_posix()
        if not path.is_file() or _not_state(rel) or path == data / DB_NAME:
            continue
        yield rel, path
    if not keys.resolve().is_relative_to(data.resolve()) and keys.is_dir():
        for path in sorted(keys.rglob("*")):
            if path.is_file():
                yield f"keys/{path.relative_to(keys).as_posix()}", path
    if not csv.resolve().is_relative_to(data.resolve()) and csv.is_file():
        yield "latency.csv", csv


def _not_state(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (
        any(rel == skip or rel.startswith(skip + "/") for skip in _NOT_STATE)
        or rel.startswith((f".{DB_NAME}-litestream", "replaced-"))
        or name.endswith((".log", ".partial", ".ports", ".tmp"))
        or ".log." in name
        or name.startswith(".write-check-")
    )


def _copy(src: Path, work: Path, rel: str) -> str:
    dest = work / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    return rel


def _entry(work: Path, rel: str) -> dict[str, object]:
    file = work / rel
    return {"path": rel, "bytes": file.stat().st_size, "sha256": _sha256(file)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(db: Path) -> tuple[int, int]:
    """(orders and restocks, schema version) of a database file."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        orders = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        return int(orders), int(conn.execute("PRAGMA user_version").fetchone()[0])


def _version() -> str:
    from autogrocery import __version__

    return __version__


# --- restores --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restored:
    data: Path
    orders: int
    files: list[str]
    moved_aside: Path | None


def restore_backup(source: Path, data: Path, *, keys: Path, csv: Path, force: bool) -> Restored:
    """Put the backup in `source` in place in the data dir `data`. Raises RestoreError."""
    manifest = _read_manifest(source)
    files = []
    for entry in manifest["files"]:
        file = source / entry["path"]
        if not file.is_file() or _sha256(file) != entry["sha256"]:
            raise RestoreError(f"{file} is missing or damaged (its SHA-256 differs): not restored")
        files.append((file, _target(entry["path"], data, keys, csv)))
    _check_database(source / DB_NAME)
    return _restore(data, force, lambda target: shutil.copy2(source / DB_NAME, target), files)


def restore_replica(data: Path, *, force: bool, fetch: Callable[[Path], None]) -> Restored:
    """The database as `fetch(path)` writes it (`litestream restore`), in place in `data`;
    the other files of the data dir stay as they are. Raises RestoreError."""
    return _restore(data, force, fetch, [])


def _restore(
    data: Path, force: bool, fetch: Callable[[Path], object], files: list[tuple[Path, Path]]
) -> Restored:
    """Under the data dir's lock: the database fetched beside its place and checked,
    what it replaces moved aside (with `force`), the files put in place, then the
    database renamed into place."""
    try:
        with hold(data, "restore"):
            db = data / DB_NAME
            if db.exists() and not force:
                raise RestoreError(
                    f"{data} holds a store already ({DB_NAME}); restore into an empty data "
                    "dir, or add --force to move its files aside first"
                )
            incoming = data / f"{DB_NAME}.restoring"
            incoming.unlink(missing_ok=True)
            try:
                fetch(incoming)
                _check_database(incoming)
            except BaseException:
                incoming.unlink(missing_ok=True)
                raise
            replaced = _stale(data) + [dest for _, dest in files if dest.exists()]
            aside = _move_aside(data, replaced) if replaced else None
            for src, dest in files:
                dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.copy2(src, dest)
            fsync_path(incoming)
            os.replace(incoming, db)
            fsync_path(data)
            orders, _ = _describe(db)
            return Restored(data, orders, [dest.name for _, dest in files], aside)
    except DataDirBusy as exc:
        raise RestoreError(f"{exc}: stop it before restoring into its data dir") from None
    except OSError as exc:
        raise RestoreError(f"cannot restore into {data}: {exc}", refused=False) from None


def _stale(data: Path) -> list[Path]:
    """What belongs to the database being replaced: its WAL and shared memory (SQLite
    would replay an old WAL into the new file) and Litestream's record of it."""
    names = (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", f".{DB_NAME}-litestream")
    return [data / name for name in names if (data / name).exists()]


def _move_aside(data: Path, paths: list[Path]) -> Path:
    """Into `replaced-<time>/`, each under its name relative to the data dir (or its own
    name, for a file the config keeps elsewhere)."""
    aside = data / time.strftime("replaced-%Y%m%dT%H%M%SZ", time.gmtime())
    aside.mkdir()
    for path in paths:
        rel = path.relative_to(data) if path.is_relative_to(data) else Path(path.name)
        (aside / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, aside / rel)
    return aside


def _target(rel: str, data: Path, keys: Path, csv: Path) -> Path:
    if rel == "latency.csv":
        return csv
    if rel.startswith("keys/"):
        return keys / rel.removeprefix("keys/")
    return data / rel


def _read_manifest(source: Path) -> dict[str, list[dict[str, str]]]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RestoreError(f"{source} is not a backup (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise RestoreError(f"cannot read {source / MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreError(f"{source / MANIFEST} is not a backup manifest of format {FORMAT}")
    return manifest


def _check_database(db: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as c:
            problems = [row[0] for row in c.execute("PRAGMA quick_check")]
            c.execute("SELECT COUNT(*) FROM orders").fetchone()
    except sqlite3.Error as exc:
        raise RestoreError(f"{db} is not a store's database ({exc}): not restored") from None
    if problems != ["ok"]:
        raise RestoreError(f"{db} fails its check ({problems[0]}): not restored")

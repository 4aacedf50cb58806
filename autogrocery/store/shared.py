"""One SQLite connection shared by every actor of a process.

Each actor still writes only its own tables; what they share is the door. With a
connection per actor, writers collide on SQLite's write lock and its busy handler
sleeps (1 ms, 2 ms, 5 ms …) between retries, which caps the store at a few hundred
orders a second. A Python lock hands the connection over the moment it is free.
Results are fetched while the lock is held, so no caller ever reads another's
half-done transaction.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from autogrocery.store.db import connect
from autogrocery.store.group_commit import GroupCommit, Writes
from autogrocery.store.room import Room
from autogrocery.store.statements import Row, Value, chunks

log = logging.getLogger(__name__)
T = TypeVar("T")
PROBE_BYTES = 16_384  # a few pages: enough that a full disk refuses the probe
# The WAL file keeps its largest size unless told: a burst (or a minute of a full disk)
# would hold megabytes for good. Each time the log starts over it is cut back to this.
WAL_KEPT_BYTES = 1 << 20
# The writer's page cache (SQLite's default: 2 MiB). At 50,000 SKUs each order's lines
# update products, lots and the ledger's per-SKU index on pages no other order of the
# batch shares: with 2 MiB the writer read them back from the file (pread) on every
# commit. Filled only as pages are read: a small store never uses it all.
WRITER_CACHE_KIB = 64 * 1024


class Result:
    """What a cursor would give, already fetched (rows are `sqlite3.Row`s: the
    connection's row factory)."""

    __slots__ = ("_rows", "lastrowid", "rowcount")

    def __init__(self, rows: list[sqlite3.Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> sqlite3.Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> sqlite3.Row:
        """The one row an aggregate or a PRAGMA always gives (COUNT, MAX, COALESCE)."""
        if not self._rows:
            raise sqlite3.DatabaseError("a query that always gives a row gave none")
        return self._rows[0]

    def fetchall(self) -> list[sqlite3.Row]:
        return self._rows

    def __iter__(self) -> Iterator[sqlite3.Row]:
        return iter(self._rows)


class StoreLost(sqlite3.OperationalError):
    """The database file was deleted or replaced while the store ran: writes would go
    to a file nobody will ever read again, so none is acknowledged any more."""


class SharedConnection:
    def __init__(
        self,
        path: Path,
        synchronous: str,
        checkpoint_every: float = 1.0,
        commit_window: float = 0.0,
    ) -> None:
        self.path = path
        self._conn = connect(path, synchronous, check_same_thread=False, cached_statements=512)
        self._identity = _identity(path)
        self.lost: str | None = None  # why the file is not ours any more
        self._conn.row_factory = sqlite3.Row
        # A checkpoint copies the WAL into the database and fsyncs both: 10-20 ms that
        # would otherwise land inside some actor's COMMIT while it holds the lock.
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
        self._conn.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        self.lock = threading.RLock()
        # The first write that failed (when, why), for /readyz: a full disk or an I/O
        # error. Only a passing probe clears it: a batch that fits in pages the file
        # already has succeeds on a full disk too, and says nothing about room.
        self.write_failure: tuple[float, str] | None = None
        self.write_failures = 0
        self.group_commit = GroupCommit(self._commit, commit_window)
        self.room = Room(path.with_name(path.name + "-wal"))  # looked at each second
        self._checkpointer = Checkpointer(path, checkpoint_every, self._watch)
        self._checkpointer.start()

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, sql: str, params: Row | Mapping[str, Value] = ()) -> Result:
        with self.lock:
            cursor = self._conn.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            return Result(rows, cursor.rowcount, cursor.lastrowid)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of its own (rows as plain tuples), closed after: a
        read of a whole table (the stock actor's start) row by row through it neither
        holds the shared lock nor lists every row at once."""
        conn = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        try:
            yield conn
        finally:
            conn.close()

    def executemany(self, sql: str, rows: Iterable[Row]) -> Result:
        with self.lock:
            cursor = self._conn.executemany(sql, rows)
            return Result([], cursor.rowcount, cursor.lastrowid)

    def write_batch(self, writes: Writes) -> None:
        """Commit `writes` (an actor's batch), with whatever other actors commit at the
        same moment (group_commit.py): durable when this returns; on any error, none
        of it is, and the error is raised."""
        self.group_commit.write(writes)

    def run_write(self, work: Callable[[SharedConnection], T]) -> T:
        """`work(self)` as one write transaction of its own, beside the actors' batches:
        for a writer that reads what it changes (the API's accounts and tokens), so that
        every write to the store's file goes through this one connection."""
        return self._transaction(lambda: work(self))

    def _commit(self, batches: list[Writes]) -> None:
        """Each batch's statements with their rows (many rows per statement, see
        statements.py), in one transaction."""

        def write() -> None:
            conn = self._conn
            for writes in batches:
                for statement, rows in writes.items():
                    for sql, params in chunks(statement, rows):
                        conn.execute(sql, params)

        self._transaction(write)

    def _transaction(self, body: Callable[[], T]) -> T:
        """`BEGIN IMMEDIATE`, `body()`, `COMMIT`, holding the lock; rolled back whole on
        any error, which is raised. A failure is kept for /readyz until `probe_write`
        passes, whatever commits meanwhile."""
        conn = self._conn
        with self.lock:
            self.check_file()
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = body()
                self.check_file()  # never acknowledge a write into a deleted file
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    self.write_failures += 1
                    if self.write_failure is None:
                        self.write_failure = (time.time(), str(exc))
                raise
            return done

    def check_file(self) -> None:
        """Raise StoreLost if the database file is not the one this store opened (checked
        before every commit, and each second by the checkpointer)."""
        if self.lost is None:
            identity = _identity(self.path)
            if identity != self._identity:
                what = "deleted" if identity is None else "replaced"
                self.lost = f"{self.path} was {what} while the store ran"
                log.critical("%s: no write is acknowledged any more; restart the store", self.lost)
        if self.lost is not None:
            raise StoreLost(self.lost)

    def hand_checkpoints_to(self, in_charge: Callable[[], bool]) -> None:
        """While `in_charge()` says so, the checkpointer leaves the WAL to another: to
        Litestream, replicating the store, which must be the only one to checkpoint
        (replicate/litestream.py). The file check keeps its beat."""
        self._checkpointer.yield_to = in_charge

    def close(self) -> None:
        """Actors let go of it; the store closes it once, in `shutdown`."""

    def _watch(self) -> None:
        with contextlib.suppress(StoreLost):
            self.check_file()
            if self.write_failure is not None:
                self.probe_write()
        self.room.look()

    def probe_write(self) -> None:
        """After a write failed (a full disk): commit a write that needs new pages and
        undoes itself, so the store knows it can write again (and says so on /readyz)
        without waiting for a request to try. With WAL the commit appends its pages to
        the log, so a disk with no room for them fails it. A nearly full disk may pass a
        probe and still fail a larger batch: that batch is refused and the store says so
        again, until the next probe."""
        conn = self._conn
        with self.lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO write_probe (filler) VALUES (zeroblob(?))", (PROBE_BYTES,)
                )
                conn.execute("DELETE FROM write_probe")
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                log.debug("the store still cannot write: %s", exc)
                return
            self.write_failure = None

    def shutdown(self) -> None:
        self._checkpointer.stop()
        with self.lock:
            self._conn.close()


class Checkpointer:
    """Checkpoints the WAL from its own thread and connection, beside the writers, and
    runs `watch` (the file check) on the same beat. PASSIVE: it never waits for (nor
    makes wait) a reader or a writer. While `yield_to()` is true, another process
    checkpoints (Litestream), and this one does not, not even on a clean stop."""

    def __init__(self, path: Path, every: float, watch: Callable[[], None]) -> None:
        self.path = path
        self.every = every
        self.watch = watch
        self.yield_to: Callable[[], bool] = lambda: False
        self.beats = self.checkpoints = 0  # rounds, and checkpoints this one ran
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpointer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
        try:
            while not self._stop.wait(self.every):
                self.beats += 1
                try:
                    self.watch()
                except Exception:  # the beat goes on: checkpoints keep the WAL small
                    log.exception("the store's file check failed")
                if not self.yield_to():
                    self._checkpoint(conn, "PASSIVE")
            if not self.yield_to():
                self._checkpoint(conn, "TRUNCATE")  # leave a small WAL behind on a clean stop
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection, mode: str) -> None:
        self.checkpoints += 1
        try:
            conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.OperationalError as exc:  # busy, or no room: the next round tries
            log.debug("checkpoint %s skipped: %s", mode, exc)


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None when there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino)

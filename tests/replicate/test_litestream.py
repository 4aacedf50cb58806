"""The real litestream binary (the replicate extra's) beside a store's database: it
replicates to a directory, is restarted when it dies, a Litestream that a killed store
left behind is stopped, and a restore brings back what the replica holds."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.replicate.litestream import (
    Litestream,
    Replica,
    ReplicationError,
    find_litestream,
    restore,
)
from autogrocery.store.db import DB_NAME, connect
from tests.waiting import until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    (tmp_path / "data").mkdir()
    conn = connect(tmp_path / "data" / DB_NAME)
    conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints are Litestream's
    conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, total INTEGER)")
    yield conn
    conn.close()


def replica_of(tmp_path: Path) -> Replica:
    url = (tmp_path / "replica").as_uri()
    return Replica(find_litestream(), tmp_path / "data" / DB_NAME, url, 0.2)


def caught_up(litestream: Litestream) -> bool:
    tracker = litestream.tracker
    return tracker.confirmed is not None and tracker.replica_txid >= tracker.db_txid


def test_replicates_restarts_when_killed_and_restores_the_latest_state(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    replica = replica_of(tmp_path)
    litestream = Litestream(replica, tmp_path / "data" / "litestream")
    litestream.start()
    try:
        assert litestream.running
        assert litestream.in_charge()
        db.executemany("INSERT INTO sales (total) VALUES (?)", [(n,) for n in range(100)])
        txid = litestream.tracker.db_txid
        until(lambda: litestream.tracker.replica_txid > txid and caught_up(litestream), within=20)
        assert litestream.lag() < 5

        first = litestream.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        until(lambda: litestream.restarts == 1 and litestream.running, within=20)
        assert litestream.pid != first
        db.executemany("INSERT INTO sales (total) VALUES (?)", [(n,) for n in range(50)])
        until(lambda: litestream.tracker.replica_txid > 0 and caught_up(litestream), within=20)
        restored = tmp_path / "restored.db"
        until(lambda: _restores(replica, restored, 150), within=20)
    finally:
        litestream.stop()
    assert not litestream.running
    assert not (tmp_path / "data" / "litestream" / "litestream.pid").exists()


def _restores(replica: Replica, out: Path, sales: int) -> bool:
    out.unlink(missing_ok=True)
    restore(replica, out)
    with sqlite3.connect(out) as conn:
        return bool(conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0] == sales)


def test_a_litestream_left_by_a_killed_store_is_stopped_before_the_next_starts(
    db: sqlite3.Connection, tmp_path: Path
) -> None:
    replica = replica_of(tmp_path)
    workdir = tmp_path / "data" / "litestream"
    orphan = Litestream(replica, workdir)
    orphan.start()
    stray = orphan.pid
    assert stray is not None
    orphan._stopping.set()  # its store was killed: nobody watches or stops it any more
    successor = Litestream(replica, workdir)
    successor.start()
    try:
        assert orphan.pid is None, "the stray runs on"
        assert successor.pid != stray
    finally:
        successor.stop()


def test_a_restore_from_an_empty_replica_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(ReplicationError, match="no matching backup files") as info:
        restore(replica_of(tmp_path), tmp_path / "restored.db")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "restored.db").exists()

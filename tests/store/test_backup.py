"""copy_database: a consistent copy of a database that is written to while it is copied,
and writers are never held up by it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autogrocery.store.backup import BackupError, copy_database
from autogrocery.store.db import connect

pytestmark = pytest.mark.timeout(60)


def _filled(path: Path, rows: int) -> sqlite3.Connection:
    conn = connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (pad) VALUES (randomblob(400))", [()] * rows)
    conn.execute("COMMIT")
    return conn


def test_writers_commit_between_steps_without_waiting_and_the_copy_is_one_moment(
    tmp_path: Path,
) -> None:
    writer = _filled(tmp_path / "live.db", 5000)
    writer.execute("PRAGMA busy_timeout=0")  # a writer held up by the copy fails at once
    steps: list[int] = []

    def write(remaining: int, total: int) -> None:
        writer.execute("INSERT INTO t (pad) VALUES (randomblob(400))")
        steps.append(remaining)

    copied = copy_database(tmp_path / "live.db", tmp_path / "copy.db", step_pages=32, on_step=write)

    assert len(steps) > 10, "the copy should take many steps"
    assert steps == sorted(steps, reverse=True), "the copy started over (it was not pinned)"
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT COUNT(*), MAX(id) FROM t").fetchone() == (5000, 5000)
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert writer.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 5000 + len(steps)
    assert not (tmp_path / "copy.db-wal").exists()
    assert copied.pages > 500
    writer.close()


def test_an_existing_destination_is_never_overwritten(tmp_path: Path) -> None:
    _filled(tmp_path / "live.db", 10).close()
    (tmp_path / "copy.db").write_bytes(b"precious")
    with pytest.raises(BackupError, match="exists already"):
        copy_database(tmp_path / "live.db", tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_bytes() == b"precious"


def test_a_file_that_is_no_database_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "live.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match=r"live\.db"):
        copy_database(tmp_path / "live.db", tmp_path / "copy.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db"]

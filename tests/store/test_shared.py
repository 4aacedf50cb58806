"""The shared connection's memory of a failed write, which /readyz reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert, Update

pytestmark = pytest.mark.timeout(30)

NOTE = Insert("notes", ("note_id", "body"))
EDIT = Update("notes", "note_id", ("body",))


def test_a_full_disk_stays_reported_until_the_probe_finds_room(tmp_path: Path) -> None:
    """On a full disk a write that fits in pages the file already has still commits; it
    must not make the store say it can write again (a store whose orders are all
    refused would answer ready). Only the probe, which needs new pages, says so."""
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE TABLE write_probe (id INTEGER PRIMARY KEY, filler BLOB NOT NULL)")
        conn.execute("INSERT INTO notes VALUES (1, 'short')")
    # No checkpointer beat during the test: the probe runs when the test says.
    shared = SharedConnection(path, "NORMAL", checkpoint_every=3600)
    try:
        pages = shared.execute("PRAGMA page_count").fetchone()[0]
        shared.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        with pytest.raises(sqlite3.OperationalError, match="full"):
            shared.write_batch({NOTE: [(2, "x" * 100_000)]})
        assert shared.write_failure is not None

        shared.write_batch({EDIT: [("shorter", 1)]})  # fits in place: commits
        assert shared.execute("SELECT body FROM notes").fetchall()[0][0] == "shorter"
        assert shared.write_failure is not None, "one small write is no sign of room"
        shared.probe_write()
        assert shared.write_failure is not None, "still full"

        shared.execute("PRAGMA max_page_count = 1073741823")  # space is freed
        shared.probe_write()
        assert shared.write_failure is None
        assert shared.write_failures == 1
    finally:
        shared.shutdown()

"""Room on the disk for the WAL: short when the file system's free space is below what
the WAL grew to lately (twice over), or below the floor."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from autogrocery.store.room import MIN_ROOM, Room


def free(monkeypatch: pytest.MonkeyPatch, nbytes: int) -> None:
    monkeypatch.setattr(os, "statvfs", lambda path: SimpleNamespace(f_bavail=nbytes, f_frsize=1))


def test_room_follows_the_wals_growth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = tmp_path / "autogrocery.db-wal"
    room = Room(wal)
    free(monkeypatch, MIN_ROOM * 3)
    room.look()
    assert room.short is None  # no WAL yet: the floor is all it needs
    wal.write_bytes(b"\0" * (2 * MIN_ROOM))  # a busy minute: the WAL grew
    room.look()
    assert room.short is not None
    assert "nearly full" in room.short
    wal.write_bytes(b"")  # checkpointed back to nothing; the minute still remembers
    room.look()
    assert room.short is not None
    free(monkeypatch, MIN_ROOM * 5)
    room.look()
    assert room.short is None
    free(monkeypatch, MIN_ROOM - 1)
    room.look()
    assert room.short is not None

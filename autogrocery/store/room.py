"""Is there room on the store's disk for the WAL to grow? Looked at each second, beside
the file check: the free space of the data dir's file system against what the WAL
needs between checkpoints (the largest it was in the last minute, twice over, and at
least MIN_ROOM). A write probe alone passes until the moment the disk is full; this
says "not ready" while there is still room to finish what is in flight."""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path

MIN_ROOM = 4 << 20  # bytes: a disk with less than this free is short, whatever the WAL
WINDOW = 60.0  # seconds of WAL sizes remembered


class Room:
    def __init__(self, wal: Path) -> None:
        self.wal = wal
        self._sizes: collections.deque[tuple[float, int]] = collections.deque()
        self.short: str | None = None  # why there is not room enough, or None

    def look(self) -> None:
        now = time.monotonic()
        try:
            size = self.wal.stat().st_size
        except FileNotFoundError:
            size = 0
        except OSError:  # a failing disk: the file check and the write probe say so
            return
        self._sizes.append((now, size))
        while self._sizes and self._sizes[0][0] < now - WINDOW:
            self._sizes.popleft()
        needed = max(MIN_ROOM, 2 * max(s for _, s in self._sizes))
        try:
            stats = os.statvfs(self.wal.parent)
        except OSError:
            return
        free = stats.f_bavail * stats.f_frsize
        self.short = (
            None
            if free >= needed
            else f"the disk is nearly full: {free >> 20} MiB free, the WAL may need "
            f"{needed >> 20} MiB before its next checkpoint"
        )

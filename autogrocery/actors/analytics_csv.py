"""The analytics CSV: an append-only log of metrics, one line each, in sequence order.

Opening it reads only its end: a torn last line (a crash mid-write) is cut off, and the
last recorded sequence number is taken from the last whole line. Nothing of the history
is kept in memory; whoever needs all of it reads it as a stream (`read_from`).
"""

from __future__ import annotations

import csv
import errno
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from autogrocery.domain.messages.analytics import Metric

CSV_HEADER = [
    "seq",
    "kind",
    "order_id",
    "status",
    "items",
    "created_at",
    "finished_at",
    "latency_ms",
]
TAIL_CHUNK = 64 * 1024  # bytes read at a time from the end
Row = list[str | int | float]  # a metric's fields, as CSV_HEADER names them


def _fields(m: Metric) -> Row:
    return [
        m.seq,
        m.order_kind.value,
        m.order_id,
        m.status,
        m.items,
        f"{m.created_at:.6f}",
        f"{m.finished_at:.6f}",
        m.latency_ms,
    ]


class CsvLog:
    """An append-only CSV of metrics, flushed batch by batch. A new file (and its
    directory) is made with the first metric, so a process that is refused before it
    records anything leaves nothing behind. A failed append (a full disk) is cut back
    off, so the file never holds half a batch in its middle."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None
        self.last_seq = 0  # the largest in the file (in seq order: its last line's)

    def open(self) -> None:
        check_csv_path(self.path)
        self.last_seq = cut_torn_tail(self.path)
        if self.path.exists():
            self.file = self.path.open("a", encoding="utf-8", newline="")

    def append_many(self, rows: list[Row]) -> None:
        """Append `rows` (in sequence order, each above `last_seq`), all or none."""
        if not rows:
            return
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("a", encoding="utf-8", newline="")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        start = self.file.tell()
        if start == 0:
            writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        try:
            self.file.write(buffer.getvalue())
            self.file.flush()
        except OSError:
            self._cut_back(start)
            raise
        self.last_seq = int(rows[-1][0])

    def size(self) -> int:
        return self.file.tell() if self.file is not None else 0

    def _cut_back(self, size: int) -> None:
        try:
            if self.file is not None:
                self.file.close()
        finally:
            self.file = None
            with self.path.open("r+b") as handle:
                handle.truncate(size)
            self.file = self.path.open("a", encoding="utf-8", newline="")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def check_csv_path(path: Path) -> None:
    """Raise the OSError that appending to `path` would raise, without creating
    anything: an existing file must be writable, and a new one's nearest existing
    ancestor a directory we may write into."""
    if path.exists():
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "permission denied", str(path))
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(ancestor))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "permission denied", str(ancestor))


def cut_torn_tail(path: Path) -> int:
    """Cut a torn last line (one without its newline) off `path`; the largest sequence
    number of the last whole data lines (those in the last chunk: 0 for no file, a
    header alone or no number). Reads from the end, a chunk at a time, only as far back
    as it must."""
    if not path.exists():
        return 0
    with path.open("r+b") as handle:
        end = handle.seek(0, os.SEEK_END)
        tail, start = b"", end
        while start > 0:
            start = max(0, start - TAIL_CHUNK)
            handle.seek(start)
            tail = handle.read(end - start)
            whole = tail.rfind(b"\n")
            # enough once we hold a torn end's newline and a whole line before it
            if whole >= 0 and tail.rfind(b"\n", 0, whole) >= 0:
                break
        if tail and not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n") + 1
            handle.truncate(start + cut)
            tail = tail[:cut]
    lines = tail.split(b"\n")[1 if start > 0 else 0 :]  # the chunk's first may be part
    seqs = [int(first) for first in (line.split(b",", 1)[0] for line in lines) if first.isdigit()]
    # the largest, not the last: an older CSV may end with a few lines out of order
    return max(seqs, default=0)


def read_from(path: Path, offset: int = 0) -> Iterator[list[str]]:
    """The data rows of the CSV from byte `offset` (the start of a line), streamed."""
    if not path.exists():
        return
    with path.open("rb") as raw:
        raw.seek(offset)
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        for row in csv.reader(text):
            if row == CSV_HEADER:
                continue
            yield row


def seq_of_line_ending_at(path: Path, offset: int) -> int | None:
    """The sequence number of the whole line that ends just before byte `offset`
    (None if there is none: `offset` is not at a line's start, or the line has no
    number)."""
    if offset <= 0:
        return None
    with path.open("rb") as handle:
        start = max(0, offset - TAIL_CHUNK)
        handle.seek(start)
        chunk = handle.read(offset - start)
    if not chunk.endswith(b"\n"):
        return None
    line = chunk[:-1].rsplit(b"\n", 1)[-1]
    first = line.split(b",", 1)[0]
    return int(first) if first.isdigit() else None

"""Who has a data dir: `autogrocery run` holds an exclusive lock on `<data dir>/store.lock`
for as long as it runs (the kernel drops it when the process ends, `kill -9` included),
and so does `autogrocery accounts` while it changes accounts. So a second store, or an
account change, never runs beside a running store: each refuses in one line instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock; run one store per data dir by hand
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "store.lock"


class DataDirBusy(Exception):
    """The data dir is held by another process (or cannot be locked)."""


@contextlib.contextmanager
def hold(data_dir: Path, what: str = "store") -> Iterator[None]:
    """Hold the data dir's lock for the block; DataDirBusy, naming the holder, if another
    process has it. Creates the data dir if it does not exist."""
    path = data_dir / LOCK_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DataDirBusy(f"cannot lock the data dir {data_dir}: {exc.strerror}") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                who = f" (pid {pid})" if pid else ""
                raise DataDirBusy(f"a store is running on {data_dir}{who}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {what}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def running_pid(data_dir: Path) -> int | None:
    """The pid of the process holding the data dir (0 if unknown), or None if none does."""
    path = data_dir / LOCK_FILE
    if fcntl is None or not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int:
    try:
        return int(os.pread(fd, 64, 0).split()[0])
    except (OSError, ValueError, IndexError):
        return 0

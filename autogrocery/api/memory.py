"""Giving memory back to the system after event streams close.

A slow subscriber's queued events and frames are freed when it goes, but glibc's malloc
keeps freed memory in its heaps (one per thread that allocated, and events are made on
actor threads and freed on the loop's) unless a free stretch sits at a heap's top.
`malloc_trim(0)` returns every free page of every heap (about 9 MB after 1,000 stalled
streams closed, in BENCHMARKS.md's drill; what stays is Python's own small-object
arenas, which it cannot reach); the store calls it `TRIM_AFTER` seconds after a stream
closes (at most that often), off the event loop. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import platform
from collections.abc import Callable

log = logging.getLogger(__name__)

TRIM_AFTER = 1.0  # seconds after a stream closed


def _malloc_trim() -> Callable[[int], int] | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # CDLL releases the GIL during the call
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class Trimmer:
    """Call `soon()` when something large was freed: a trim follows within `after` s."""

    def __init__(self, after: float = TRIM_AFTER) -> None:
        self.after = after
        self.trims = 0
        self._trim = _malloc_trim()
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Future[int] | None = None

    def soon(self) -> None:
        if self._trim is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.after, self._start)

    def _start(self) -> None:
        self._timer = None
        if self._trim is None or (self._running is not None and not self._running.done()):
            return
        self._running = asyncio.get_running_loop().run_in_executor(None, self._trim, 0)
        self._running.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[int]) -> None:
        if future.cancelled() or future.exception() is not None:
            log.debug("malloc_trim failed", exc_info=future.exception())
            return
        self.trims += 1

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

"""The simulator (simulate.py) in a spawned child process: the store's event loop (and
the dashboard on it) then pays only for the server side of each request. The child's
counters come back through shared memory; Ctrl-C is the parent's to handle."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.simulate import Simulation, Simulator, Stats

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from autogrocery.logs import Rotation

log = logging.getLogger(__name__)

COUNTERS = ("orders", "previews", "shortages", "unavailable", "errors", "behind", "restocks")
Counters = ctypes.Array[ctypes.c_longlong]  # shared memory: COUNTERS in order ("q")


class SimulatorProcess:
    """A `Simulator` in a spawned child process. The store's event loop (and the
    dashboard on it) then pays only for the server side of each request: a simulator
    thread would take the GIL from it for the client side as well."""

    def __init__(
        self,
        simulation: Simulation,
        *,
        log_file: Path | None = None,
        log_level: str = "INFO",
        log_format: str = "json",
        rotation: Rotation | None = None,
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._counters: Counters = ctx.Array("q", len(COUNTERS), lock=False)
        kept = Kept(rotation.max_bytes, rotation.backups) if rotation else None
        logging_setup = (log_level, log_format, log_file, kept)
        self._process = ctx.Process(
            target=_child,
            args=(simulation, logging_setup, self._stop, self._counters, os.getpid()),
            name="autogrocery-simulator",
            daemon=True,
        )
        self.started = time.monotonic()

    def start(self) -> None:
        # Ctrl-C reaches every process on the terminal. The child takes a second to
        # import what it runs, and a SIGINT then was a KeyboardInterrupt traceback: it
        # starts with SIGINT blocked and ignores it before unblocking (the parent stops
        # it), as multiprocessing's own resource tracker does.
        masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, masked)
        self.started = time.monotonic()

    @property
    def stats(self) -> Stats:
        values = dict(zip(COUNTERS, self._counters, strict=True))
        return Stats(**values, started=self.started)

    def stop(self, timeout: float = 5.0) -> None:
        if self._process.pid is None:  # never started
            return
        self._stop.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(2.0)


@dataclass(frozen=True, slots=True)
class Kept:
    """Log rotation settings, as the child process receives them (picklable)."""

    max_bytes: int
    backups: int


def _child(
    simulation: Simulation,
    logging_setup: tuple[str, str, Path | None, Kept | None],
    stop: Event,
    counters: Counters,
    parent: int,
) -> None:
    from autogrocery.logs import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it (Ctrl-C reaches both)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by `start`
    configure_logging(*logging_setup)
    simulator = Simulator(simulation)
    asyncio.run(_follow(simulator, stop, counters, parent))


async def _follow(simulator: Simulator, stop: Event, counters: Counters, parent: int) -> None:
    task = asyncio.create_task(simulator.run())
    reported = time.monotonic()
    while not task.done():
        await asyncio.sleep(0.2)
        for index, name in enumerate(COUNTERS):
            counters[index] = getattr(simulator.stats, name)
        if time.monotonic() - reported >= 10.0:
            reported = time.monotonic()
            log.info("simulator: %s", simulator.stats.line())
        if stop.is_set() or os.getppid() != parent:
            break
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("the simulator stopped")

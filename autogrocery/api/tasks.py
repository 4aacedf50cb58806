"""The API's background tasks (idempotency purge, metrics tick, loop-lag watch), kept
running: a task that fails is logged and started again after a pause that doubles from
`FIRST_DELAY` to `MAX_DELAY`, and `/readyz` names it until it has run `HEALTHY_AFTER`
seconds without failing. None of them may vanish silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from autogrocery.loop import cancel_all

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
HEALTHY_AFTER = 10.0

Job = Callable[[], Coroutine[Any, Any, None]]


class Background:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._failing: dict[str, str] = {}

    def start(self, name: str, job: Job) -> None:
        """Run `job()` (a loop meant to run until cancelled) under supervision."""
        self._tasks[name] = asyncio.create_task(self._keep(name, job), name=name)

    def status(self) -> dict[str, str]:
        """Each task: "ok", or why it is not running well."""
        return {name: self._failing.get(name, "ok") for name in self._tasks}

    async def stop(self) -> None:
        await cancel_all(self._tasks.values())

    async def _keep(self, name: str, job: Job) -> None:
        loop = asyncio.get_running_loop()
        delay, failures = FIRST_DELAY, 0
        while True:
            started = loop.time()
            recovered = (
                loop.call_later(HEALTHY_AFTER, self._failing.pop, name, None)
                if name in self._failing
                else None
            )
            error: BaseException | None = None
            try:
                await job()
            except Exception as exc:  # a failed task is the report, not the end of it
                error = exc
            finally:
                if recovered is not None:
                    recovered.cancel()
            if loop.time() - started >= HEALTHY_AFTER:
                delay = FIRST_DELAY
            failures += 1
            why = f"{type(error).__name__}: {error}" if error is not None else "it returned"
            self._failing[name] = f"failed ({why}); restarting in {delay:g}s"
            log.error(
                "background task %s failed (%s); restarting it in %g s",
                name,
                why,
                delay,
                # The traceback once: a task that keeps failing logs one line each time.
                exc_info=error if failures == 1 else None,
                extra={"task": name, "failures": failures},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

"""The event loop: the fastest available runs the coroutine (uvloop where installed),
and background tasks are stopped for sure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

# A task that swallowed a cancellation is cancelled again after this many seconds.
CANCEL_AGAIN_AFTER = 0.2


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # e.g. on Windows, where uvloop does not exist
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """Like `asyncio.run`, on uvloop when it is installed."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


async def cancel_all(tasks: Collection[asyncio.Task[object]], within: float = 5.0) -> None:
    """Cancel `tasks` and wait until they have ended, for `within` seconds at most.

    One cancellation is not always enough: on Python 3.11, `asyncio.wait_for` returns
    its result when the awaited thing finishes in the same moment as the cancellation,
    and the cancellation is lost (nats-py's `fetch` loses about one in twenty when
    cancelled at random times). A loop around such a call would go on for ever; those
    still running are cancelled again until they end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    running = {task for task in tasks if not task.done()}
    while running:
        for task in running:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            names = ", ".join(sorted(task.get_name() for task in running))
            log.error("tasks still running %gs after they were cancelled: %s", within, names)
            break
        _, running = await asyncio.wait(running, timeout=min(CANCEL_AGAIN_AFTER, left))
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: their own loops have logged what went wrong

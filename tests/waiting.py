"""Every wait the tests do, bounded and in one place.

A wait on a duration asserts the machine is fast enough (harlequin's tests/waiting.py).
These poll a condition instead, so a loaded machine makes a test slower rather than red:
`until` from a thread (state another thread or process sets), `eventually` from the
event loop (its check may be a coroutine, and `pause` lets a Textual pilot pump the app
between looks). Each names its bound, `within` seconds, at the call; past it, it fails
with an AssertionError that says what it waited for, for how long, and what it last saw.

Ports are not chosen here: a server under test binds port 0 itself and says where it
listens (the `{"url": ...}` log line of `run --headless` and `central run`, the sockets
of `asyncio.start_server`, zmq's LAST_ENDPOINT), and a port that must stay unused is
bound and held for the test's length (tests/e2e/test_startup.py). The one port a test
names in advance is a store's own, for its restart (tests/bench/test_bench.py).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["eventually", "until"]

T = TypeVar("T")


def until(
    check: Callable[[], T], *, within: float, what: str | None = None, every: float = 0.02
) -> T:
    """Call `check()` until it returns something truthy, and return that; fail after
    `within` seconds, naming `what` (or the check) and the last value it returned."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(timed_out(check, within, what, result))
        time.sleep(every)


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    within: float,
    what: str | None = None,
    every: float = 0.02,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Await `check()` (or call it, if it is not a coroutine) until it is truthy, and
    return that; between looks, `await pause(every)`. Fails as `until` does."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(timed_out(check, within, what, result))
        await pause(every)


def timed_out(check: Callable[..., object], within: float, what: str | None, last: object) -> str:
    seen = repr(last)
    if len(seen) > 300:
        seen = seen[:300] + "…"
    return f"waited {within:g}s for {what or describe(check)}; last saw {seen}"


def describe(check: Callable[..., object]) -> str:
    """What a check checks: its docstring's first line, a lambda's source, or its name."""
    if inspect.isfunction(check) or inspect.ismethod(check):
        if check.__doc__:
            return check.__doc__.strip().splitlines()[0].rstrip(".")
        if check.__name__ == "<lambda>":
            try:
                source = inspect.getsource(check)
            except (OSError, TypeError):
                return "a lambda"
            text = " ".join(source[source.find("lambda") :].split())
            return text if len(text) <= 200 else text[:200] + "…"
        return check.__qualname__
    return repr(check)

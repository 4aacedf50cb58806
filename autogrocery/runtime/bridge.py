"""Asking actors from asyncio without blocking the event loop (docs/architecture.md, rule 1).

Awaiting a pykka future blocks the loop (its `__await__` calls the blocking `get()`).
Here a request is a `Call` whose answer settles an `asyncio.Future` through the loop's
`LoopSink`. Calls made during one turn of the loop travel to each actor as one
`Batch` (sent at the end of the turn with `call_soon`, so nothing waits for a timer),
and an actor answers its whole batch with one `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Protocol, TypeVar

import pykka

from autogrocery.domain.errors import Unavailable
from autogrocery.domain.messages.answered import Answered
from autogrocery.runtime.replies import Batch, Call, LoopSink, ReplyTo

A = TypeVar("A")

SWEEP_EVERY = 0.25  # seconds between checks for calls that waited too long


class _Pending(Protocol):
    """A call's future as the sweep sees it, whatever its answer's type."""

    def done(self) -> bool: ...

    def set_exception(self, exception: type | BaseException, /) -> None: ...


class AsyncBridge:
    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self._sink = LoopSink(loop)
        self._outgoing: dict[str, tuple[pykka.ActorRef[Any], list[Call]]] = {}
        # Every call has the same timeout, so deadlines queue up in order.
        self._waiting: collections.deque[tuple[float, _Pending, str]] = collections.deque()
        self._sweeper: asyncio.TimerHandle | None = None

    async def ask(self, ref: pykka.ActorRef[Any], message: Answered[A]) -> A:
        return await self.send(ref, message)

    def send(self, ref: pykka.ActorRef[Any], message: Answered[A]) -> asyncio.Future[A]:
        """Queue `message` for `ref`; the future settles with the actor's answer."""
        loop = self._loop
        future: asyncio.Future[A] = loop.create_future()
        call = Call(message, ReplyTo(self._sink, future))
        outgoing = self._outgoing
        entry = outgoing.get(ref.actor_urn)
        if entry is None:
            if not outgoing:
                loop.call_soon(self._flush)
            outgoing[ref.actor_urn] = (ref, [call])
        else:
            entry[1].append(call)
        self._waiting.append((loop.time() + self._timeout, future, type(message).__name__))
        if self._sweeper is None:
            self._sweeper = loop.call_later(SWEEP_EVERY, self._sweep)
        return future

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, {}
        for ref, calls in outgoing.values():
            try:
                ref.tell(calls[0] if len(calls) == 1 else Batch(calls))
            except pykka.ActorDeadError:
                for call in calls:
                    future = call.reply_to.token  # the asyncio future `send` made
                    if isinstance(future, asyncio.Future) and not future.done():
                        future.set_exception(
                            Unavailable(f"{type(call.message).__name__}: the actor is restarting")
                        )

    def _sweep(self) -> None:
        now = self._loop.time()
        waiting = self._waiting
        while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
            _, future, what = waiting.popleft()
            if not future.done():
                future.set_exception(Unavailable(f"{what}: no answer in {self._timeout:g}s"))
        self._sweeper = self._loop.call_later(SWEEP_EVERY, self._sweep) if waiting else None

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

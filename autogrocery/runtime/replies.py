"""How answers travel from actor threads back to whoever asked.

A `Call` carries its message and a `ReplyTo`: a sink and a token. An actor answers a
whole batch at once, grouping answers by sink, so one event-loop wake-up settles every
future of the batch (`LoopSink`); a thread waiting in `call()` uses `THREAD_SINK`.
A reply can be forwarded: the actor that finishes the work answers, not the first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, overload

import pykka

from autogrocery.domain.errors import Unavailable
from autogrocery.domain.messages.answered import Answered

log = logging.getLogger(__name__)

A = TypeVar("A")

# (token, value, error). A token means something only to the sink that made it (a
# future of its own kind); a value is handed on to whoever waits, never read here.
Answer = tuple[object, object, BaseException | None]


class Sink(Protocol):
    def deliver(self, answers: list[Answer]) -> None:
        """Settle every token with its value or error; called from an actor's thread."""


@dataclass(frozen=True, slots=True)
class ReplyTo:
    sink: Sink
    token: object


@dataclass(frozen=True, slots=True)
class Call:
    """A message that wants an answer."""

    message: object
    reply_to: ReplyTo


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages (plain or `Call`s) for one actor, sent together."""

    messages: Sequence[object]


class LoopSink:
    """Answers for an asyncio event loop: one `call_soon_threadsafe` per batch."""

    __slots__ = ("loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def deliver(self, answers: list[Answer]) -> None:
        try:
            self.loop.call_soon_threadsafe(_settle_all, answers)
        except RuntimeError:  # the loop is closed: nobody waits any more
            log.debug("%d answer(s) dropped: event loop closed", len(answers))


def _settle_all(answers: list[Answer]) -> None:
    """Each answer's future gets its value or error, unless it is done already (its
    caller gave up waiting)."""
    for future, value, error in answers:
        if not isinstance(future, (asyncio.Future, concurrent.futures.Future)):
            raise TypeError(f"not a future: {future!r}")
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


class ThreadSink:
    """Answers for threads blocked in `call()` (the supervisor, tests)."""

    def deliver(self, answers: list[Answer]) -> None:
        _settle_all(answers)  # concurrent.futures.Future settles as asyncio's does


class PykkaSink:
    """Answers for a plain pykka `ask` whose envelope was taken into a batch."""

    def deliver(self, answers: list[Answer]) -> None:
        for future, value, error in answers:
            if not isinstance(future, pykka.Future):
                raise TypeError(f"not a pykka future: {future!r}")
            if error is not None:
                future.set_exception((type(error), error, error.__traceback__))
            else:
                future.set(value)


THREAD_SINK = ThreadSink()
PYKKA_SINK = PykkaSink()


@overload
def call(ref: pykka.ActorRef[Any], message: Answered[A], timeout: float) -> A: ...


# A message that does not name its answer's type (the start's Recover and ExpireLots,
# whose answers the supervisor does not read): whatever the handler returned.
@overload
def call(ref: pykka.ActorRef[Any], message: object, timeout: float) -> object: ...


def call(ref: pykka.ActorRef[Any], message: object, timeout: float) -> object:
    """Ask from a plain thread (never from the event loop: this blocks)."""
    future: concurrent.futures.Future[object] = concurrent.futures.Future()
    try:
        ref.tell(Call(message, ReplyTo(THREAD_SINK, future)))
    except pykka.ActorDeadError:
        raise Unavailable(f"{type(message).__name__}: the actor is not running") from None
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise Unavailable(f"{type(message).__name__}: no answer in {timeout}s") from None


def tell(ref: pykka.ActorRef[Any] | None, message: object) -> bool:
    """Fire and forget; False when the actor is not running (what it would have been
    told is derived again from the store when it restarts)."""
    if ref is None:
        return False
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        log.warning("%s not delivered: the actor is not running", type(message).__name__)
        return False
    return True

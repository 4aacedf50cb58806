"""The actor base class: typed message dispatch, and replies that reach asyncio.

DESIGN rule 1: awaiting a pykka future blocks the event loop. A `Call` carries a
reply callback instead; `AsyncBridge.ask` turns that callback into an
`asyncio.Future` resolved with `loop.call_soon_threadsafe`, so the loop never waits
on a lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import pykka

from autogrocery.domain.errors import DomainError, Unavailable

log = logging.getLogger(__name__)

Reply = Callable[[Any, BaseException | None], None]
F = TypeVar("F", bound=Callable[..., Any])


def handles(message_type: type) -> Callable[[F], F]:
    """Mark a method as the handler of one message type."""

    def mark(method: F) -> F:
        method.__handles__ = message_type  # type: ignore[attr-defined]
        return method

    return mark


@dataclass(frozen=True, slots=True)
class Call:
    """A message whose answer goes to `reply(value, error)` on the actor's thread."""

    message: Any
    reply: Reply


class Actor(pykka.ThreadingActor):
    _handlers: ClassVar[dict[type, str]] = {}
    name: ClassVar[str] = "actor"
    on_death: Callable[[Actor], None] | None = None  # set by the supervisor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                message_type = getattr(value, "__handles__", None)
                if message_type is not None:
                    handlers[message_type] = attr
        cls._handlers = handlers

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Call):
            # Like pykka's own ask: the error goes back to the caller, the actor lives on.
            try:
                result = self._dispatch(message.message)
            except Exception as exc:
                if not isinstance(exc, DomainError):
                    log.error(
                        "%s failed on %s", self.name, type(message.message).__name__, exc_info=exc
                    )
                message.reply(None, exc)
            else:
                message.reply(result, None)
            return None
        return self._dispatch(message)

    def _dispatch(self, message: Any) -> Any:
        handler = self._handlers.get(type(message))
        if handler is None:
            raise TypeError(f"{self.name} cannot handle {type(message).__name__}")
        return getattr(self, handler)(message)

    def close(self) -> None:
        """Release what the actor holds (connections, files); runs once, however it ends."""

    def on_stop(self) -> None:
        self._fail_pending_calls()
        self.close()

    def on_failure(self, *exc_info: Any) -> None:
        self._fail_pending_calls()
        try:
            self.close()
        finally:
            if self.on_death is not None:
                self.on_death(self)

    def _fail_pending_calls(self) -> None:
        """Answer queued Calls so no awaiting coroutine waits for a dead actor."""
        while not self.actor_inbox.empty():
            envelope = self.actor_inbox.get()
            message = envelope.message
            if isinstance(message, Call):
                message.reply(None, Unavailable(f"{self.name} stopped"))
            elif envelope.reply_to is not None:
                envelope.reply_to.set_exception(
                    (pykka.ActorDeadError, pykka.ActorDeadError(f"{self.name} stopped"), None)
                )


class AsyncBridge:
    """Ask actors from asyncio without ever blocking the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout

    async def ask(self, ref: pykka.ActorRef[Any], message: Any) -> Any:
        future: asyncio.Future[Any] = self._loop.create_future()
        loop = self._loop

        def reply(value: Any, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, future, value, error)

        try:
            ref.tell(Call(message, reply))
        except pykka.ActorDeadError:
            raise Unavailable(f"{type(message).__name__}: the actor is not running") from None
        try:
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            raise Unavailable(f"{type(message).__name__}: no answer in {self._timeout}s") from None


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)

"""The actor base class: smart batching and group commit on top of pykka.

A pykka actor takes one message at a time. Ours take what is waiting: when a message
arrives, the actor also takes every message queued behind it (up to `max_batch`) and
handles them as one batch, with one `UnitOfWork` and one transaction. A sender never
waits for a batch to fill; alone, a message is a batch of one, handled at once.

Handlers are plain methods marked with `@handles(MessageType)`, on the actor or on one
of its `parts` (objects the actor holds, each with one job: composition, as mopidy's
controllers are, instead of mixins sharing private fields). They change the actor's
memory (registering how to undo it), stage their writes and effects on the actor's
`unit`, and return the answer. See `unit.py` for what happens to a batch, and
`replies.py` for how answers travel.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import pykka

from autogrocery.domain.errors import DomainError, Unavailable
from autogrocery.runtime.replies import PYKKA_SINK, Batch, Call, ReplyTo
from autogrocery.runtime.unit import Params, UnitOfWork
from autogrocery.store.statements import Statement

if TYPE_CHECKING:
    from pykka._envelope import Envelope  # what the inbox holds (pykka exports no name)

log = logging.getLogger(__name__)


class Host(Protocol):
    """What a part of an actor uses of it: the batch being handled."""

    unit: UnitOfWork

    def forward(self, peer: str, message: object) -> None: ...

    def refuse(self, error: Exception) -> None: ...


class Peers(Protocol):
    """What an actor needs of the name -> ActorRef lookup (`context.Peers`): declared
    here, so the runtime's base knows nothing of the context that builds it."""

    stopping: threading.Event

    def ref(self, name: str) -> pykka.ActorRef[Any] | None: ...


F = TypeVar("F", bound=Callable[..., Any])

# A transient store failure (disk full, I/O error, read-only file) fails the batch's
# callers with 503 and retries its internal messages, backing off up to this long.
RETRY_MIN, RETRY_MAX = 0.1, 5.0


def handles(message_type: type) -> Callable[[F], F]:
    """Mark a method as the handler of one message type."""

    def mark(method: F) -> F:
        method.__handles__ = message_type  # type: ignore[attr-defined]
        return method

    return mark


# A message (routed here, read only by its handler) and where its answer goes.
_Request = tuple[object, "ReplyTo | None"]
Handler = Callable[[object], object]


class Writer(Protocol):
    """What a batch commits through: the process's shared store connection."""

    def write_batch(self, writes: dict[Statement, list[Params]]) -> None: ...


class BatchStats:
    """Batches and messages handled by the actors of one name (all robots count as
    "robot"), over the process's life: the mean batch size, for /metrics."""

    __slots__ = ("batches", "items")

    def __init__(self) -> None:
        self.batches = 0
        self.items = 0


BATCH_STATS: dict[str, BatchStats] = {}


class Actor(pykka.ThreadingActor):
    # message type -> (the part's attribute, or None for the actor itself; the method)
    _handlers: ClassVar[dict[type, tuple[str | None, str]]] = {}
    # attribute -> the class of a part the actor makes in __init__ under that name;
    # its @handles methods handle the actor's messages too
    parts: ClassVar[dict[str, type]] = {}
    name: ClassVar[str] = "actor"
    max_batch: ClassVar[int] = 512
    # A failure that is not the caller's (a bug, a fault) kills the actor instead of
    # failing one item: for actors that model hardware, like robots.
    die_on_error: ClassVar[bool] = False
    on_death: Callable[[Actor], None] | None = None  # set by the supervisor
    writer: Writer | None = None  # actors that own tables set it in on_start
    schedule: Callable[[float, Callable[[], None]], None] | None = None  # for retries
    peers: Peers | None = None  # name -> ActorRef lookup, for `unit.tell`

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, tuple[str | None, str]] = {}
        owners: list[tuple[str | None, type]] = [(None, cls)]
        owners += list(cls.parts.items())
        for part, owner in owners:
            for klass in reversed(owner.__mro__):
                for attr, value in vars(klass).items():
                    message_type = getattr(value, "__handles__", None)
                    if message_type is None:
                        continue
                    if message_type in handlers and handlers[message_type][0] != part:
                        raise TypeError(f"{cls.__name__}: two handlers of {message_type}")
                    handlers[message_type] = (part, attr)
        cls._handlers = handlers

    def __init__(self) -> None:
        super().__init__()
        self.unit = UnitOfWork()
        self.stats = BATCH_STATS.setdefault(self.name, BatchStats())
        self._failures = 0
        self._bound: dict[type, Handler] | None = None  # once the parts are made

    def _bind(self) -> dict[type, Handler]:
        bound: dict[type, Handler] = {}
        for message_type, (part, attr) in self._handlers.items():
            owner = self if part is None else getattr(self, part)
            bound[message_type] = getattr(owner, attr)
        self._bound = bound
        return bound

    # --- taking a batch --------------------------------------------------------------

    def on_receive(self, message: object) -> None:
        kind = type(message)
        if kind is not Call and kind is not Batch and kind not in self._handlers:
            # Not a message of ours: a programming error. The actor dies and its
            # supervisor restarts it (how tests kill an actor, too).
            raise TypeError(f"{self.name} cannot handle {kind.__name__}")
        requests: list[_Request] = []
        _expand(message, None, requests)
        for envelope in self._drain(self.max_batch):
            reply = ReplyTo(PYKKA_SINK, envelope.reply_to) if envelope.reply_to else None
            _expand(envelope.message, reply, requests)
        self._run(requests)

    def _drain(self, limit: int) -> list[Envelope[object]]:
        """The envelopes queued now, up to `limit`, stopping at one that is not ours
        (pykka's stop message stays first in line)."""
        inbox = self.actor_inbox
        taken: list[Envelope[object]] = []
        handlers = self._handlers
        with inbox.mutex:  # type: ignore[attr-defined]
            queue = inbox.queue  # type: ignore[attr-defined]
            while queue and len(taken) < limit:
                kind = type(queue[0].message)
                if kind is not Call and kind is not Batch and kind not in handlers:
                    break
                taken.append(queue.popleft())
        return taken

    # --- handling it -----------------------------------------------------------------

    def _run(self, requests: list[_Request]) -> None:
        self.stats.batches += 1
        self.stats.items += len(requests)
        unit = self.unit = UnitOfWork()
        handlers = self._bound if self._bound is not None else self._bind()
        for request in requests:
            self._handle(unit, request, handlers)
        try:
            unit.begin_item(None)
            try:
                self.before_commit()
            except BaseException:
                unit.abort_item()
                raise
            if unit.has_writes():
                if self.writer is None:
                    raise RuntimeError(f"{self.name} wrote but has no store")
                self.writer.write_batch(unit.writes)
        except sqlite3.OperationalError as exc:  # full disk, I/O error, read-only store
            self._rolled_back(unit, requests, exc)
        except Exception as exc:
            # Not transient: one item's write broke a constraint, or a bug. Do the items
            # again one at a time, so only the bad one fails.
            unit.rollback()
            self.after_batch()
            if len(requests) == 1:
                log.error("%s could not commit %s", self.name, _what(requests[0]), exc_info=exc)
                unit.fail_answers(exc)
                unit.deliver_answers()
                return
            log.warning("%s: a batch of %d failed (%s); one by one", self.name, len(requests), exc)
            for request in requests:
                self._run([request])
            return
        else:
            self._failures = 0
            self.after_batch()
            unit.run_effects(self._send)
        unit.deliver_answers()

    def _handle(self, unit: UnitOfWork, request: _Request, handlers: dict[type, Handler]) -> None:
        message, reply_to = request
        unit.begin_item(reply_to)
        handler = handlers.get(type(message))
        try:
            if handler is None:
                raise TypeError(f"{self.name} cannot handle {type(message).__name__}")
            result = handler(message)
        except Exception as exc:
            unit.abort_item()
            if not isinstance(exc, DomainError):
                if self.die_on_error:
                    raise
                log.error("%s failed on %s", self.name, type(message).__name__, exc_info=exc)
            if reply_to is not None:
                unit.answer(reply_to, None, exc)
            return
        if reply_to is not None and not unit.forwarded:
            refusal = unit.refusal
            if refusal is None:
                unit.answer(reply_to, result, None)
            else:
                unit.answer(reply_to, None, refusal)

    def _rolled_back(self, unit: UnitOfWork, requests: list[_Request], exc: Exception) -> None:
        unit.rollback()
        self.after_batch()
        self._failures += 1
        # Capped before the power: a disk full for minutes fails thousands of batches.
        delay = min(RETRY_MAX, RETRY_MIN * 2 ** min(self._failures - 1, 16))
        log.error("%s could not save a batch of %d: %s", self.name, len(requests), exc)
        unit.fail_answers(
            Unavailable(f"the store cannot save right now ({exc}); try again", retry_after=delay)
        )
        internal = [message for message, reply_to in requests if reply_to is None]
        if internal and self.schedule is not None:
            ref = self.actor_ref
            self.schedule(delay, lambda: _tell_self(ref, internal))

    # --- hooks and helpers for handlers ----------------------------------------------

    def before_commit(self) -> None:
        """Stage the batch's aggregate writes (each entity's final state, once)."""

    def after_batch(self) -> None:
        """The batch committed or rolled back: forget what was marked for it."""

    def refuse(self, error: Exception) -> None:
        """Answer the current item with `error`, keeping what it changed (raising would
        undo it): a refusal that still has an effect, like a shorter hold."""
        self.unit.refusal = error

    def forward(self, peer: str, message: object) -> None:
        """Hand the current item's answer to `peer`: it answers once it has done
        `message` (or it is told `message` when nobody waits for an answer)."""
        unit = self.unit
        reply = unit.reply_to
        unit.tell(peer, Call(message, reply) if reply is not None else message)
        unit.forwarding(reply)

    def _send(self, peer: str, messages: list[object]) -> None:
        ref = self.peers.ref(peer) if self.peers is not None else None
        try:
            if ref is not None:
                ref.tell(messages[0] if len(messages) == 1 else Batch(messages))
                return
        except pykka.ActorDeadError:
            pass
        if self.peers is not None and self.peers.stopping.is_set():
            log.info("%d message(s) for %s not sent: the store is stopping", len(messages), peer)
        else:
            log.warning("%d message(s) for %s dropped: not running", len(messages), peer)

    # --- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release what the actor holds (files, connections); runs once, however it ends."""

    def on_stop(self) -> None:
        self._fail_pending_calls()
        self.close()

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._fail_pending_calls()
        try:
            self.close()
        finally:
            if self.on_death is not None:
                self.on_death(self)

    def _fail_pending_calls(self) -> None:
        """Answer queued Calls so nobody waits for a dead actor."""
        gone = Unavailable(f"{self.name} stopped", retry_after=1.0)
        unit = UnitOfWork()
        while not self.actor_inbox.empty():
            envelope = self.actor_inbox.get()
            requests: list[_Request] = []
            _expand(envelope.message, None, requests)
            for _, reply_to in requests:
                if reply_to is not None:
                    unit.answer(reply_to, None, gone)
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception(
                    (pykka.ActorDeadError, pykka.ActorDeadError(f"{self.name} stopped"), None)
                )
        unit.deliver_answers()


def _expand(message: object, reply_to: ReplyTo | None, into: list[_Request]) -> None:
    if type(message) is Batch:
        for inner in message.messages:
            if type(inner) is Call:
                into.append((inner.message, inner.reply_to))
            else:
                into.append((inner, None))
    elif type(message) is Call:
        into.append((message.message, message.reply_to))
    else:
        into.append((message, reply_to))


def _what(request: _Request) -> str:
    return type(request[0]).__name__


def _tell_self(ref: pykka.ActorRef[Actor], messages: list[object]) -> None:
    try:
        ref.tell(Batch(messages))
    except pykka.ActorDeadError:
        log.warning("%d message(s) not retried: the actor stopped", len(messages))

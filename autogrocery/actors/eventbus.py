"""Fan-out of live events from actor threads to asyncio subscribers.

Built for the hot path: subscriptions are indexed by owner, so an order event costs
only the subscribers who may see it; event data may be a callable, built only when
somebody wants it; and events cross into each event loop in batches (one wake-up of
the loop per burst, not one per event).

Each subscription numbers what it receives (`seq` 1, 2, 3, …). A subscriber that falls
behind loses its oldest events, and then reads one `events.dropped` notice in their
place, so its numbering never has a silent gap. Chatty state events (`robot.updated`)
are coalesced before fan-out: at most one per key per interval, the last state winning.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from autogrocery.actors.scheduler import Scheduler
from autogrocery.domain.events import ROBOT_UPDATED, Event
from autogrocery.domain.models import now, rfc3339

Data = dict[str, Any] | Callable[[], dict[str, Any]]

EVENTS_DROPPED = "events.dropped"
ROBOT_UPDATE_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class Coalesce:
    """At most one event of a type per `key` (a field of its data) per `interval` s."""

    key: str
    interval: float


DEFAULT_COALESCE: Mapping[str, Coalesce] = {
    ROBOT_UPDATED: Coalesce("robot_id", ROBOT_UPDATE_INTERVAL)
}


class Subscription:
    """An async iterator of events; slow readers lose the oldest events, not the store."""

    def __init__(
        self,
        bus: EventBus,
        inbox: _LoopInbox,
        types: frozenset[str] | None,
        owner: str | None,
        maxsize: int,
    ) -> None:
        self._bus = bus
        self._inbox = inbox
        self.types = types
        self.owner = owner
        self._maxsize = max(1, maxsize)
        self._buffer: collections.deque[tuple[int, Event]] = collections.deque()
        self._next_seq = 1
        self._lost_from = 0  # seq of the first event lost since the last read
        self._lost = 0  # events lost since the last read
        self._wakeup = asyncio.Event()
        self.dropped = 0  # events lost in all
        self.closed = False

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types

    def offer(self, event: Event) -> None:
        """Called on the loop thread."""
        if len(self._buffer) >= self._maxsize:
            seq, _ = self._buffer.popleft()
            if not self._lost:
                self._lost_from = seq
            self._lost += 1
            self.dropped += 1
            self._bus.dropped += 1
        self._buffer.append((self._next_seq, event))
        self._next_seq += 1
        self._wakeup.set()

    def close(self) -> None:
        self._bus.unsubscribe(self)
        self.closed = True
        self._wakeup.set()

    async def receive(self) -> tuple[int, Event]:
        """The next event and its seq. After a loss, an `events.dropped` notice
        `{count, from_seq}` comes first; its seq is that of the last event lost."""
        while not self._buffer:
            if self.closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        if self._lost:
            count, first = self._lost, self._lost_from
            self._lost = 0
            lost = {"count": count, "from_seq": first}
            return first + count - 1, Event(EVENTS_DROPPED, rfc3339(now()) or "", lost)
        return self._buffer.popleft()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return (await self.receive())[1]


class _LoopInbox:
    """Events bound for one event loop, handed over in batches."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pending: collections.deque[tuple[Subscription, Event]] = collections.deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def put(self, sub: Subscription, event: Event) -> None:
        self._pending.append((sub, event))
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._pending.clear()

    def _deliver(self) -> None:
        with self._lock:
            self._scheduled = False
        pending = self._pending
        while pending:
            sub, event = pending.popleft()
            if not sub.closed:
                sub.offer(event)


class _Coalescer:
    """Throttles one event type per key: the first change goes out at once; changes
    within `interval` of the last one sent wait for the interval's end, and only the
    latest of them goes out then."""

    def __init__(
        self,
        rule: Coalesce,
        emit: Callable[[dict[str, Any]], None],
        timer: Callable[[float, Callable[[], None]], None],
    ) -> None:
        self.rule = rule
        self._emit = emit
        self._timer = timer
        self._lock = threading.Lock()
        self._sent: dict[Any, float] = {}
        self._held: dict[Any, dict[str, Any]] = {}

    def offer(self, data: dict[str, Any]) -> None:
        key = data.get(self.rule.key)
        clock = time.monotonic()
        # Emitting under the lock keeps one key's events in order; the fan-out only
        # queues, it never calls back here.
        with self._lock:
            if key in self._held:
                self._held[key] = data
                return
            last = self._sent.get(key)
            if last is None or clock - last >= self.rule.interval:
                self._sent[key] = clock
                self._emit(data)
                return
            self._held[key] = data
        self._timer(last + self.rule.interval - clock, lambda: self._flush(key))

    def _flush(self, key: Any) -> None:
        with self._lock:
            data = self._held.pop(key, None)
            if data is not None:
                self._sent[key] = time.monotonic()
                self._emit(data)


class EventBus:
    def __init__(self, coalesce: Mapping[str, Coalesce] = DEFAULT_COALESCE) -> None:
        self._lock = threading.Lock()
        self._everything: tuple[Subscription, ...] = ()  # operators: every owner
        self._by_owner: dict[str, tuple[Subscription, ...]] = {}
        self._inboxes: dict[asyncio.AbstractEventLoop, _LoopInbox] = {}
        self._scheduler: Scheduler | None = None  # started on the first held event
        self.dropped = 0  # events lost by slow subscribers, all of them ever
        self._coalescers = {
            event_type: _Coalescer(rule, self._emitter(event_type), self._call_later)
            for event_type, rule in coalesce.items()
        }

    def publish(self, event_type: str, data: Data, owner: str | None = None) -> None:
        """Send an event to those who may see it. `owner` is the device or truck the
        event belongs to (None: operators only)."""
        everyone = self._everything
        owned = self._by_owner.get(owner, ()) if owner is not None else ()
        if not everyone and not owned:
            return
        coalescer = self._coalescers.get(event_type)
        if coalescer is not None and owner is None:
            coalescer.offer(data() if callable(data) else data)
            return
        self._fanout(event_type, data, owner, (*everyone, *owned))

    def _fanout(
        self, event_type: str, data: Data, owner: str | None, subs: tuple[Subscription, ...]
    ) -> None:
        event: Event | None = None
        for sub in subs:
            if sub.wants(event_type):
                if event is None:
                    payload = data() if callable(data) else data
                    event = Event(event_type, rfc3339(now()) or "", payload, owner)
                sub._inbox.put(sub, event)

    def _emitter(self, event_type: str) -> Callable[[dict[str, Any]], None]:
        def emit(data: dict[str, Any]) -> None:
            self._fanout(event_type, data, None, self._everything)

        return emit

    def _call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._scheduler is None:
                self._scheduler = Scheduler()
                self._scheduler.start()
            scheduler = self._scheduler
        scheduler.call_later(delay, fn)

    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop,
        types: Iterable[str] | None = None,
        owner: str | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """Events of `types` (all if None); with `owner`, only that owner's events.
        A subscriber more than `maxsize` events behind loses the oldest."""
        wanted = frozenset(types) if types is not None else None
        with self._lock:
            inbox = self._inboxes.get(loop)
            if inbox is None:
                inbox = self._inboxes[loop] = _LoopInbox(loop)
            sub = Subscription(self, inbox, wanted, owner, maxsize)
            if owner is None:
                self._everything = (*self._everything, sub)
            else:
                self._by_owner[owner] = (*self._by_owner.get(owner, ()), sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub.owner is None:
                self._everything = tuple(s for s in self._everything if s is not sub)
                return
            remaining = tuple(s for s in self._by_owner.get(sub.owner, ()) if s is not sub)
            if remaining:
                self._by_owner[sub.owner] = remaining
            else:
                self._by_owner.pop(sub.owner, None)

    def close_all(self) -> None:
        with self._lock:
            subs = [*self._everything, *(s for group in self._by_owner.values() for s in group)]
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.stop()
        for sub in subs:
            try:
                sub._inbox.loop.call_soon_threadsafe(sub.close)
            except RuntimeError:
                sub.closed = True

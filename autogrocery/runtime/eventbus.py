"""Fan-out of live events from actor threads to asyncio subscribers.

Built for the hot path: subscriptions are indexed by owner, so an order event costs
only the subscribers who may see it; and events cross into each event loop in batches
(one wake-up of the loop per burst, not one per event).

Events carry the actors' records as they are. Each event is encoded to JSON once, on the
loop thread, whatever the number of its subscribers, by the bus's `encode` (the API's:
each record shown as the API shows it, api/views.py); a WebSocket frame is that body
with the subscriber's `seq` put in front (`frame`). Each subscription numbers what it
receives (`seq` 1, 2, 3, …). A subscriber that falls behind (more than `maxsize` events
or `max_bytes` bytes of frames waiting) loses its oldest events, and then reads one
`events.dropped` notice in their place, so its numbering never has a silent gap. Chatty
state events (`robot.updated`) are coalesced before fan-out: at most one per key per
interval, the last state winning.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

import orjson

from autogrocery.domain.events import ROBOT_UPDATED, Event
from autogrocery.domain.models import now, rfc3339
from autogrocery.runtime.scheduler import Scheduler

log = logging.getLogger(__name__)

EVENTS_DROPPED = "events.dropped"
ROBOT_UPDATE_INTERVAL = 0.25
# What a waiting event is counted as besides its body, against `max_bytes`: its share
# of the (event, body) pair all its subscribers hold, and a slot in each one's queue.
ENTRY_COST = 64

# An event with its encoded body, made once and shared by every subscriber's queue: a
# waiting event costs each subscriber one slot, and 1,000 subscribers that stopped
# reading at once hold one copy of what they missed, not 1,000.
Encoded = tuple[Event, bytes]


Encoder = Callable[[Event], bytes]


def encode(event: Event) -> bytes:
    """The event's JSON, `{type, at, data}`, for data that is JSON already (dicts)."""
    return orjson.dumps({"type": event.type, "at": event.at, "data": event.data})


def frame(seq: int, body: bytes) -> bytes:
    """One subscriber's frame: the encoded event with its `seq` first."""
    return b'{"seq":%d,%s' % (seq, body[1:])


@dataclass(frozen=True, slots=True)
class Coalesce:
    """At most one event of a type per `key` (an attribute of its record) per `interval` s."""

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
        max_bytes: int | None = None,
    ) -> None:
        self._bus = bus
        self._inbox = inbox
        self.types = types
        self.owner = owner
        self._maxsize = max(1, maxsize)
        self._max_bytes = max_bytes
        # Waiting events; their seqs follow each other, the first's is `_head_seq`.
        self._buffer: collections.deque[Encoded] = collections.deque()
        self._head_seq = 1
        self.queued_bytes = 0  # bodies waiting, plus ENTRY_COST each
        self._lost_from = 0  # seq of the first event lost since the last read
        self._lost = 0  # events lost since the last read
        self._wakeup = asyncio.Event()
        self.dropped = 0  # events lost in all
        self.closed = False

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types

    def offer(self, encoded: Encoded) -> None:
        """Called on the loop thread. An event that does not fit takes the place of the
        oldest ones (one always fits)."""
        cost = len(encoded[1]) + ENTRY_COST
        buffer = self._buffer
        limit = self._max_bytes
        while buffer and (
            len(buffer) >= self._maxsize or (limit is not None and self.queued_bytes + cost > limit)
        ):
            _, old = buffer.popleft()
            self.queued_bytes -= len(old) + ENTRY_COST
            if not self._lost:
                self._lost_from = self._head_seq
            self._head_seq += 1
            self._lost += 1
            self.dropped += 1
            self._bus.dropped += 1
        buffer.append(encoded)
        self.queued_bytes += cost
        self._wakeup.set()

    def close(self) -> None:
        """No more events. What was waiting is let go at once: a closed subscription may
        stay reachable for a while (a reference cycle through a traceback of its
        reader's), and must not keep what it held with it."""
        self._bus.unsubscribe(self)
        self.closed = True
        self._buffer.clear()
        self.queued_bytes = 0
        self._lost = 0
        self._wakeup.set()

    async def receive(self) -> tuple[int, Event]:
        """The next event and its seq. After a loss, an `events.dropped` notice
        `{count, from_seq}` comes first; its seq is that of the last event lost."""
        seq, event, _ = await self.receive_encoded()
        return seq, event

    async def receive_encoded(self) -> tuple[int, Event, bytes]:
        """As `receive`, with the event's encoded body (for `frame`)."""
        while not self._buffer:
            if self.closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        if self._lost:
            count, first = self._lost, self._lost_from
            self._lost = 0
            lost = {"count": count, "from_seq": first}
            notice = Event(EVENTS_DROPPED, rfc3339(now()) or "", lost)
            return first + count - 1, notice, self._inbox.encode(notice)
        event, body = self._buffer.popleft()
        self.queued_bytes -= len(body) + ENTRY_COST
        seq = self._head_seq
        self._head_seq += 1
        return seq, event, body

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return (await self.receive())[1]


class _LoopInbox:
    """Events bound for one event loop, handed over in batches."""

    def __init__(self, loop: asyncio.AbstractEventLoop, encode: Encoder) -> None:
        self.loop = loop
        self.encode = encode
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
        last: Event | None = None
        encoded: Encoded | None = None
        while pending:
            sub, event = pending.popleft()
            if sub.closed:
                continue
            if event is not last:  # one event's subscribers come in a row: encode once
                last = event
                try:
                    encoded = (event, self.encode(event))
                except Exception:  # data it cannot show: a bug, never the store's stop
                    log.exception("event %s cannot be encoded; not sent", event.type)
                    encoded = None
            if encoded is not None:
                sub.offer(encoded)


class _Coalescer:
    """Throttles one event type per key: the first change goes out at once; changes
    within `interval` of the last one sent wait for the interval's end, and only the
    latest of them goes out then."""

    def __init__(
        self,
        rule: Coalesce,
        emit: Callable[[object], None],
        timer: Callable[[float, Callable[[], None]], None],
    ) -> None:
        self.rule = rule
        self._emit = emit
        self._timer = timer
        self._lock = threading.Lock()
        self._sent: dict[Hashable, float] = {}
        self._held: dict[Hashable, object] = {}

    def offer(self, data: object) -> None:
        key: Hashable = getattr(data, self.rule.key)
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

    def _flush(self, key: Hashable) -> None:
        with self._lock:
            data = self._held.pop(key, None)
            if data is not None:
                self._sent[key] = time.monotonic()
                self._emit(data)


class EventBus:
    def __init__(
        self, coalesce: Mapping[str, Coalesce] = DEFAULT_COALESCE, encode: Encoder = encode
    ) -> None:
        self._encode = encode
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

    def publish(self, event_type: str, data: object, owner: str | None = None) -> None:
        """Send an event to those who may see it. `owner` is the device or truck the
        event belongs to (None: operators only)."""
        everyone = self._everything
        owned = self._by_owner.get(owner, ()) if owner is not None else ()
        if not everyone and not owned:
            return
        coalescer = self._coalescers.get(event_type)
        if coalescer is not None and owner is None:
            coalescer.offer(data)
            return
        self._fanout(event_type, data, owner, (*everyone, *owned))

    def _fanout(
        self, event_type: str, data: object, owner: str | None, subs: tuple[Subscription, ...]
    ) -> None:
        event: Event | None = None
        for sub in subs:
            if sub.wants(event_type):
                if event is None:
                    event = Event(event_type, rfc3339(now()) or "", data, owner)
                sub._inbox.put(sub, event)

    def _emitter(self, event_type: str) -> Callable[[object], None]:
        def emit(data: object) -> None:
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
        max_bytes: int | None = None,
    ) -> Subscription:
        """Events of `types` (all if None); with `owner`, only that owner's events.
        A subscriber more than `maxsize` events, or `max_bytes` bytes of encoded events
        plus ENTRY_COST each, behind loses the oldest."""
        wanted = frozenset(types) if types is not None else None
        with self._lock:
            inbox = self._inboxes.get(loop)
            if inbox is None:
                inbox = self._inboxes[loop] = _LoopInbox(loop, self._encode)
            sub = Subscription(self, inbox, wanted, owner, maxsize, max_bytes)
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

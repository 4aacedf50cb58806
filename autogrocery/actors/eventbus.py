"""Fan-out of live events from actor threads to asyncio subscribers.

Built for the hot path: subscriptions are indexed by owner, so an order event costs
only the subscribers who may see it; event data may be a callable, built only when
somebody wants it; and events cross into each event loop in batches (one wake-up of
the loop per burst, not one per event).
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from autogrocery.domain.events import Event
from autogrocery.domain.models import now, rfc3339

Data = dict[str, Any] | Callable[[], dict[str, Any]]


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
        self._buffer: collections.deque[Event] = collections.deque(maxlen=maxsize)
        self._wakeup = asyncio.Event()
        self.dropped = 0
        self.closed = False

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types

    def offer(self, event: Event) -> None:
        """Called on the loop thread."""
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(event)
        self._wakeup.set()

    def close(self) -> None:
        self._bus.unsubscribe(self)
        self.closed = True
        self._wakeup.set()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while not self._buffer:
            if self.closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._buffer.popleft()


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


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._everything: tuple[Subscription, ...] = ()  # operators: every owner
        self._by_owner: dict[str, tuple[Subscription, ...]] = {}
        self._inboxes: dict[asyncio.AbstractEventLoop, _LoopInbox] = {}

    def publish(self, event_type: str, data: Data, owner: str | None = None) -> None:
        """Send an event to those who may see it. `owner` is the device or truck the
        event belongs to (None: operators only)."""
        everyone = self._everything
        owned = self._by_owner.get(owner, ()) if owner is not None else ()
        if not everyone and not owned:
            return
        event: Event | None = None
        for sub in (*everyone, *owned):
            if sub.wants(event_type):
                if event is None:
                    payload = data() if callable(data) else data
                    event = Event(event_type, rfc3339(now()) or "", payload, owner)
                sub._inbox.put(sub, event)

    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop,
        types: Iterable[str] | None = None,
        owner: str | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """Events of `types` (all if None); with `owner`, only that owner's events."""
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
        for sub in subs:
            try:
                sub._inbox.loop.call_soon_threadsafe(sub.close)
            except RuntimeError:
                sub.closed = True

"""Fan-out of live events from actor threads to asyncio subscribers."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from autogrocery.domain.events import Event
from autogrocery.domain.models import now, rfc3339


class Subscription:
    """An async iterator of events; slow readers lose the oldest events, not the store."""

    def __init__(
        self,
        bus: EventBus,
        loop: asyncio.AbstractEventLoop,
        accept: Callable[[Event], bool],
        maxsize: int,
    ) -> None:
        self._bus = bus
        self._loop = loop
        self._accept = accept
        self._buffer: collections.deque[Event] = collections.deque(maxlen=maxsize)
        self._wakeup = asyncio.Event()
        self.dropped = 0
        self.closed = False

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


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: tuple[Subscription, ...] = ()

    def publish(self, event_type: str, data: dict[str, Any], owner: str | None = None) -> None:
        subscriptions = self._subscriptions
        if not subscriptions:
            return
        event = Event(event_type, rfc3339(now()) or "", data, owner)
        for sub in subscriptions:
            if sub._accept(event):
                try:
                    sub._loop.call_soon_threadsafe(sub.offer, event)
                except RuntimeError:  # the subscriber's loop is closed
                    self.unsubscribe(sub)

    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop,
        types: Iterable[str] | None = None,
        owner: str | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """Events of `types` (all if None); with `owner`, only that owner's events."""
        wanted = frozenset(types) if types is not None else None

        def accept(event: Event) -> bool:
            if wanted is not None and event.type not in wanted:
                return False
            return owner is None or event.owner == owner

        sub = Subscription(self, loop, accept, maxsize)
        with self._lock:
            self._subscriptions = (*self._subscriptions, sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not sub)

    def close_all(self) -> None:
        for sub in self._subscriptions:
            sub._loop.call_soon_threadsafe(sub.close)

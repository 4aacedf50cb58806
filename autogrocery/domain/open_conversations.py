"""The open stock-command conversations: each waits a few minutes for its answer (the
clock is injectable), belongs to its own key, and the oldest go first beyond a bound."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from autogrocery.domain.command_dialogue import DEFAULT_TTL, step
from autogrocery.domain.command_draft import Draft, Reply, Stock
from autogrocery.domain.models import Product


@dataclass
class _Open:
    draft: Draft
    deadline: float


@dataclass
class Conversations:
    """Open conversations by key (e.g. operator and conversation id), each kept
    `ttl` seconds after its last question; the oldest go first beyond `capacity`."""

    ttl: float = DEFAULT_TTL
    clock: Callable[[], float] = time.monotonic
    capacity: int = 1000
    _open: OrderedDict[Hashable, _Open] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def say(
        self, key: Hashable, text: str, products: Sequence[Product], stock: Stock, user: str
    ) -> Reply:
        """One step of the conversation `key`. Thread-safe: callers may run it off their
        event loop (matching a large catalog takes a while), one step at a time."""
        with self._lock:
            now = self.clock()
            for stale in [k for k, v in self._open.items() if v.deadline <= now]:
                del self._open[stale]
            held = self._open.pop(key, None)
            draft = held.draft if held else None
            reply, draft = step(draft, text, products, stock, user, ttl=self.ttl)
            if draft is not None:
                self._open[key] = _Open(draft, now + self.ttl)
                while len(self._open) > self.capacity:
                    self._open.popitem(last=False)
            return reply

    def deadline(self, key: Hashable) -> float | None:
        """When the open question of `key` expires (on `clock`), if there is one."""
        held = self._open.get(key)
        return held.deadline if held and held.deadline > self.clock() else None

    def __len__(self) -> int:
        return len(self._open)

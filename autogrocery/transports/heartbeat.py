"""Heartbeat timing shared by both ends of both ZeroMQ channels.

Each side sends a heartbeat every `interval` seconds (any frame counts as a sign of
life) and declares its peer gone after `misses` intervals without hearing from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Heartbeat:
    interval: float = 1.0
    misses: int = 3

    @property
    def timeout(self) -> float:
        return self.interval * self.misses

    def wire(self) -> dict[str, float | int]:
        """What the store tells its peers in `welcome`, so both ends use the same timing."""
        return {"heartbeat": self.interval, "misses": self.misses}

    @classmethod
    def from_wire(cls, message: dict[str, object], default: Heartbeat) -> Heartbeat:
        interval, misses = message.get("heartbeat"), message.get("misses")
        if (
            isinstance(interval, int | float)
            and not isinstance(interval, bool)
            and 0 < interval <= 60
            and isinstance(misses, int)
            and not isinstance(misses, bool)
            and 1 <= misses <= 100
        ):
            return cls(float(interval), misses)
        return default


class Pulse:
    """When to beat next and whether the peer has gone quiet."""

    def __init__(self, heartbeat: Heartbeat) -> None:
        self.heartbeat = heartbeat
        now = time.monotonic()
        self.heard = now
        self.next_beat = now

    def hear(self) -> None:
        self.heard = time.monotonic()

    def beat_due(self, now: float) -> bool:
        if now < self.next_beat:
            return False
        self.next_beat = now + self.heartbeat.interval
        return True

    def silent(self, now: float) -> bool:
        return now - self.heard > self.heartbeat.timeout

    def until_next(self, now: float) -> float:
        return max(0.0, self.next_beat - now)

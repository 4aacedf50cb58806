"""What the supervisor tells any actor as the store starts: are you up, and resume what
a crash or restart interrupted."""

from __future__ import annotations

from dataclasses import dataclass

from autogrocery.domain.messages.answered import Answered


@dataclass(frozen=True, slots=True)
class Ping(Answered[str]):
    """Any actor: answers "pong" (the supervisor's start barrier and /readyz)."""


@dataclass(frozen=True, slots=True)
class Recover:
    """Ordering and analytics: resume what a crash or restart interrupted."""

"""What every actor is given: where the store is, peers, events and timers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pykka

from autogrocery.actors.eventbus import EventBus
from autogrocery.actors.scheduler import Scheduler
from autogrocery.domain.errors import Unavailable
from autogrocery.store.shared import SharedConnection

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Peers:
    """Actor refs, filled in by the supervisor before any actor receives a message."""

    ordering: pykka.ActorRef[Any] | None = None
    inventory: pykka.ActorRef[Any] | None = None
    pricing: pykka.ActorRef[Any] | None = None
    analytics: pykka.ActorRef[Any] | None = None

    def tell(self, name: str, message: Any) -> None:
        """Fire and forget. A peer that is down loses the message, never the state:
        what it was told is derived again from the store when it restarts."""
        ref = getattr(self, name)
        if ref is None:
            raise RuntimeError(f"actor {name} is not wired")
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            log.warning("%s not delivered: %s is down", type(message).__name__, name)

    def ask(self, name: str, message: Any, timeout: float) -> Any:
        ref = getattr(self, name)
        if ref is None:
            raise RuntimeError(f"actor {name} is not wired")
        try:
            return ref.ask(message, timeout=timeout)
        except pykka.ActorDeadError:
            raise Unavailable(f"{name} is restarting; try again") from None
        except pykka.Timeout:
            raise Unavailable(f"{name} did not answer within {timeout}s") from None


@dataclass(slots=True)
class Context:
    db_path: Path
    synchronous: str
    events: EventBus
    scheduler: Scheduler
    ask_timeout: float
    peers: Peers = field(default_factory=Peers)
    on_death: Callable[[Any], None] | None = None
    _shared: SharedConnection | None = None

    def connect(self) -> Any:
        """The process's shared store connection (see store/shared.py)."""
        if self._shared is None:
            self._shared = SharedConnection(self.db_path, self.synchronous)
        return self._shared

    def close_store(self) -> None:
        if self._shared is not None:
            self._shared.shutdown()
            self._shared = None

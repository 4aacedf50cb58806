"""What every actor is given: where the store is, its peers, events and timers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pykka

from autogrocery.runtime.eventbus import EventBus
from autogrocery.runtime.scheduler import Scheduler
from autogrocery.store.shared import SharedConnection

if TYPE_CHECKING:
    from autogrocery.runtime.base import Actor

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Peers:
    """The core actors by name; the supervisor fills it in (and again on a restart)
    before any actor receives a message."""

    refs: dict[str, pykka.ActorRef[Any]] = field(default_factory=dict)
    # Set when the store stops: a message to a peer already stopped is expected then
    # (the next start recovers its order from the database, as after a kill -9).
    stopping: threading.Event = field(default_factory=threading.Event)

    def ref(self, name: str) -> pykka.ActorRef[Any] | None:
        return self.refs.get(name)


@dataclass(slots=True)
class Context:
    db_path: Path
    synchronous: str
    events: EventBus
    scheduler: Scheduler
    ask_timeout: float
    peers: Peers = field(default_factory=Peers)
    on_death: Callable[[Actor], None] | None = None
    clock: Callable[[], float] = time.time  # what "today" is (tests move it forward)
    zone: tzinfo = UTC  # the store's time zone: its dates and days
    chain: bool = False  # in a chain: stock and its orders append their facts to the outbox
    commit_window: float = 0.0  # store.commit_window (see store/group_commit.py)
    _shared: SharedConnection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def today(self) -> date:
        """The store's date now, in its time zone."""
        return datetime.fromtimestamp(self.clock(), self.zone).date()

    def connect(self) -> SharedConnection:
        """The process's shared store connection (see store/shared.py). Actors call this
        from their own threads as they start, at the same time: one connection for all."""
        with self._lock:
            if self._shared is None:
                self._shared = SharedConnection(
                    self.db_path, self.synchronous, commit_window=self.commit_window
                )
            return self._shared

    def write_failure(self) -> tuple[float, str] | None:
        """Since when and why the store's writes fail (None: they do not)."""
        shared = self._shared
        return shared.write_failure if shared is not None else None

    def disk_short(self) -> str | None:
        """Why the store's disk has not room enough for the WAL, if it has not."""
        shared = self._shared
        return shared.room.short if shared is not None else None

    def store_lost(self) -> str | None:
        """Why the database file is not the store's any more (deleted, replaced)."""
        shared = self._shared
        return shared.lost if shared is not None else None

    def close_store(self) -> None:
        with self._lock:
            if self._shared is not None:
                self._shared.shutdown()
                self._shared = None

"""Group commit: the batches that actors commit at about the same time share one
transaction (leader and followers, as databases do it).

The first actor to commit leads: it waits `window` seconds for others' batches, then
writes all that came in one transaction and wakes them; a batch that arrives while a
group commits is taken by the next round. Each order touches the same pages at each
step (its row in orders, the tasks of its aisles, its SKUs' rows in products): in one
transaction, a page is written to the WAL once for all the batches that changed it,
not once for each (an SD card lives on fewer writes). With `window` 0 nobody waits:
batches that pile up behind a commit in progress still go together.

Each batch keeps its own outcome. A failure every batch shares (a full disk, a lost
file: an `sqlite3.OperationalError`) fails them all; any other failure (a constraint a
batch broke) is found by committing the batches of the group one by one.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from autogrocery.store.statements import Statement

Writes = dict[Statement, list[Sequence[Any]]]


class _Ticket:
    __slots__ = ("done", "error", "writes")

    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommit:
    def __init__(self, commit: Callable[[list[Writes]], None], window: float = 0.0) -> None:
        """`commit` writes the given batches in one transaction, or raises."""
        self._commit = commit
        self.window = window
        self._lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._leading = False
        self.groups = 0  # transactions, for /metrics and tests
        self.batches = 0

    def write(self, writes: Writes) -> None:
        ticket = _Ticket(writes)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = self._leading or lead
        if lead:
            self._lead()
        else:
            ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    def _lead(self) -> None:
        if self.window > 0:
            time.sleep(self.window)  # the others' batches of this moment join
        while True:
            with self._lock:
                group, self._queue = self._queue, []
                if not group:
                    self._leading = False
                    return
            self._write(group)

    def _write(self, group: list[_Ticket]) -> None:
        try:
            self._commit([ticket.writes for ticket in group])
        except sqlite3.OperationalError as exc:  # shared by all: each batch fails
            for ticket in group:
                ticket.error = exc
        except BaseException as exc:
            if len(group) == 1:
                group[0].error = exc
            else:  # one batch broke it: find which, committing them alone
                for ticket in group:
                    try:
                        self._commit([ticket.writes])
                    except BaseException as alone:
                        ticket.error = alone
        finally:
            self.groups += 1
            self.batches += len(group)
            for ticket in group:
                ticket.done.set()

"""Group commit: the batches that actors commit at about the same time share one
transaction (leader and followers, as databases do it).

The first actor to commit leads: it waits `window` seconds for others' batches, then
writes all that came in one transaction and wakes them; a batch that arrives while a
group commits is taken by the next round. Each order touches the same pages at each
step (its row in orders, the tasks of its aisles, its SKUs' rows in products): in one
transaction, a page is written to the WAL once for all the batches that changed it,
not once for each (an SD card lives on fewer writes). With `window` 0 nobody waits:
batches that pile up behind a commit in progress still go together.

A leader commits one group, then hands the lead to the first batch that came
meanwhile: nobody commits others' batches for longer than one transaction.

Each batch keeps its own outcome. When a group's transaction fails, its batches are
committed one by one: a failure one batch caused (a constraint it broke, a statement
SQLite refused) is that batch's alone; one they share (a full disk) fails each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

from autogrocery.store.statements import Row, Statement

Writes = Mapping[Statement, Sequence[Row]]


class _Ticket:
    __slots__ = ("done", "error", "lead", "writes")

    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.done = threading.Event()  # committed or failed, or handed the lead
        self.lead = False
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
            self._leading = True
        if lead:
            self._lead(self.window)
        else:
            ticket.done.wait()
            if ticket.lead:  # handed the lead: its batch is still waiting in the queue
                self._lead(0.0)
        if ticket.error is not None:
            raise ticket.error

    def _lead(self, window: float) -> None:
        if window > 0:
            time.sleep(window)  # the others' batches of this moment join
        with self._lock:
            group, self._queue = self._queue, []
        self._write(group)
        with self._lock:
            if self._queue:  # came while the group committed: the first of them leads
                heir = self._queue[0]
                heir.lead = True
                heir.done.set()
            else:
                self._leading = False

    def _write(self, group: list[_Ticket]) -> None:
        try:
            self._commit([ticket.writes for ticket in group])
        except BaseException as exc:
            if len(group) == 1:
                group[0].error = exc
            else:  # whose failure was it: each batch alone
                for ticket in group:
                    try:
                        self._commit([ticket.writes])
                    except BaseException as alone:
                        ticket.error = alone
        finally:
            self.groups += 1
            self.batches += len(group)
            for ticket in group:
                ticket.lead = False
                ticket.done.set()

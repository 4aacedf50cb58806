"""A robot: picks (orders) or shelves (restocks) one aisle's lines, one task at a time.

Transport-agnostic: tasks arrive as `RobotTask`s (decoded by the transport if they
crossed a network); reports and progress leave through its `RobotEndpoint`, the
reports of one batch together. Finished task ids are remembered, so a re-sent task is
reported again, not redone.

A robot that takes time to pick keeps the tasks it holds in a `WorkQueue` and does
one at a time, lowest priority number first (customer picks before shelving), looking
at its mailbox between two tasks: a pick that arrives while it shelves waits for the
chunk in hand only. A withdrawn task (its order was cancelled) leaves the queue if it
has not begun. While a task takes longer than `PROGRESS_EVERY`, the robot says how far
it got, so the store sees it alive.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autogrocery.domain.messages.fulfilment import (
    RobotTask,
    TaskProgress,
    TaskReport,
    WithdrawTasks,
)
from autogrocery.domain.messages.lifecycle import Ping
from autogrocery.runtime.base import Actor, handles

if TYPE_CHECKING:
    from autogrocery.transports.base import RobotEndpoint

log = logging.getLogger(__name__)

REMEMBERED_TASKS = 20_000  # per robot: minutes of work, enough to recognise a re-sent task
PROGRESS_EVERY = 1.0  # seconds between a working robot's progress reports
# After this many higher-priority tasks in a row while lower ones wait, one lower one
# goes: shelving gets at least a fifth of a robot under a steady stream of picks.
LOWER_PRIORITY_TURN = 4


@dataclass(frozen=True, slots=True)
class KeepWorking:
    """A robot to itself: do the next task, once the messages that came meanwhile are in."""


class WorkQueue:
    """The tasks a robot holds and has not begun: lowest priority number first, oldest
    first within a priority; after `turn` tasks in a row while lower-priority ones
    wait, the oldest of the next priority has its turn (no starvation)."""

    def __init__(self, turn: int = LOWER_PRIORITY_TURN) -> None:
        self.turn = turn
        self._levels: dict[int, dict[str, RobotTask]] = {}  # priority -> id -> task, in order
        self._streak = 0

    def __len__(self) -> int:
        return sum(len(tasks) for tasks in self._levels.values())

    def add(self, task: RobotTask) -> None:
        """Queue `task`; a re-sent one replaces its queued copy, keeping its place."""
        for tasks in self._levels.values():
            if task.task_id in tasks:
                tasks[task.task_id] = task
                return
        self._levels.setdefault(task.priority, {})[task.task_id] = task

    def remove(self, task_ids: Iterable[str]) -> list[str]:
        """Drop the tasks not begun among `task_ids`; the ids dropped."""
        dropped = []
        for task_id in task_ids:
            for tasks in self._levels.values():
                if tasks.pop(task_id, None) is not None:
                    dropped.append(task_id)
                    break
        return dropped

    def next(self) -> RobotTask | None:
        levels = sorted(priority for priority, tasks in self._levels.items() if tasks)
        if not levels:
            return None
        level = levels[0]
        if len(levels) == 1:
            self._streak = 0
        elif self._streak >= self.turn:
            level, self._streak = levels[1], 0
        else:
            self._streak += 1
        tasks = self._levels[level]
        return tasks.pop(next(iter(tasks)))


class RobotActor(Actor):
    name = "robot"
    die_on_error = True  # a fault in its work is the robot's death: it is restarted

    def __init__(
        self,
        robot_id: str,
        aisle: str,
        endpoint: RobotEndpoint,
        pick_time: float,
        failure_probability: float,
        stopping: threading.Event,
        seed: int | str | None = None,
        on_death: Callable[[Actor], None] | None = None,
    ) -> None:
        super().__init__()
        self.on_death = on_death
        self.robot_id = robot_id
        self.aisle = aisle
        self.endpoint = endpoint
        self.pick_time = pick_time
        self.failure_probability = failure_probability
        self.stopping = stopping
        self.rng = random.Random(seed)
        self.done: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.queue = WorkQueue()
        self._reports: list[TaskReport] = []
        self._nudged = False  # a KeepWorking is on its way

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(RobotTask)
    def take(self, task: RobotTask) -> None:
        if task.task_id in self.done:
            self._reports.append(TaskReport(task.task_id, self.robot_id, True))
            return
        if self.stopping.is_set():
            return  # the store re-dispatches unfinished work after a restart
        if not self.pick_time:
            self._finish(task)  # no time taken: nothing can wait behind it
            return
        self.queue.add(task)
        self._nudge()

    @handles(WithdrawTasks)
    def withdraw(self, msg: WithdrawTasks) -> None:
        dropped = self.queue.remove(msg.task_ids)
        if dropped:
            log.info("robot %s dropped withdrawn task(s) %s", self.robot_id, ", ".join(dropped))

    @handles(KeepWorking)
    def keep_working(self, _: KeepWorking) -> None:
        self._nudged = False
        task = self.queue.next()
        if task is None or self.stopping.is_set():
            return
        self._flush()  # what is done is reported before the next task begins
        if not self._spend(task):
            return  # stopping: the store re-dispatches it after a restart
        self._finish(task)
        self._nudge()

    def _nudge(self) -> None:
        """Come back for the next task after this batch, so that what arrived while this
        one was done (a customer pick, a withdrawal) is queued first."""
        if self.queue and not self._nudged:
            self._nudged = True
            ref = self.actor_ref
            self.unit.then(lambda: ref.tell(KeepWorking()))

    def _spend(self, task: RobotTask) -> bool:
        """The task's time, saying how far it got every `PROGRESS_EVERY` seconds of a
        long one; False if the store stops meanwhile."""
        units = task.items
        seconds = self.pick_time * units
        if seconds <= PROGRESS_EVERY:
            return not self.stopping.wait(seconds)
        began = time.monotonic()
        self.endpoint.progress(TaskProgress(task.task_id, self.robot_id, 0, units))
        while (spent := time.monotonic() - began) < seconds:
            if self.stopping.wait(min(PROGRESS_EVERY, seconds - spent)):
                return False
            done = min(units, int((time.monotonic() - began) / self.pick_time))
            if done < units:
                self.endpoint.progress(TaskProgress(task.task_id, self.robot_id, done, units))
        return True

    def _finish(self, task: RobotTask) -> None:
        if self.failure_probability and self.rng.random() < self.failure_probability:
            self._reports.append(TaskReport(task.task_id, self.robot_id, False, "gripper fault"))
            return
        self.done[task.task_id] = None
        if len(self.done) > REMEMBERED_TASKS:
            self.done.popitem(last=False)
        self._reports.append(TaskReport(task.task_id, self.robot_id, True))

    def after_batch(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._reports:
            reports, self._reports = self._reports, []
            self.endpoint.report(reports)

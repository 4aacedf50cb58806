"""A robot: picks (orders) or shelves (restocks) one aisle's lines, one task at a time.

Transport-agnostic: tasks arrive as `RobotTask`s (decoded by the transport if they
crossed a network), reports leave through `report`, those of one batch together.
Finished task ids are remembered, so a re-sent task is reported again, not redone.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from collections.abc import Callable

from autogrocery.actors.base import Actor, handles
from autogrocery.domain.messages import Ping, RobotTask, TaskReport

log = logging.getLogger(__name__)

REMEMBERED_TASKS = 20_000  # per robot: minutes of work, enough to recognise a re-sent task

Report = Callable[[list[TaskReport]], None]


class RobotActor(Actor):
    name = "robot"
    die_on_error = True  # a fault in its work is the robot's death: it is restarted

    def __init__(
        self,
        robot_id: str,
        aisle: str,
        report: Report,
        pick_time: float,
        failure_probability: float,
        stopping: threading.Event,
        seed: int | None = None,
        on_death: Callable[[Actor], None] | None = None,
    ) -> None:
        super().__init__()
        self.on_death = on_death
        self.robot_id = robot_id
        self.aisle = aisle
        self.report = report
        self.pick_time = pick_time
        self.failure_probability = failure_probability
        self.stopping = stopping
        self.rng = random.Random(seed)
        self.done: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._reports: list[TaskReport] = []

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(RobotTask)
    def work(self, task: RobotTask) -> None:
        if task.task_id in self.done:
            self._reports.append(TaskReport(task.task_id, self.robot_id, True))
            return
        if self.stopping.is_set():
            return  # the store re-dispatches unfinished work after a restart
        if self.pick_time:
            self._flush()  # what is done is reported before the next pick begins
            if self.stopping.wait(self.pick_time * task.items):
                return
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
            self.report(reports)

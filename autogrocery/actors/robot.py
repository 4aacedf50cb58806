"""A robot: picks (orders) or shelves (restocks) one aisle's lines, one task at a time.

Transport-agnostic: tasks arrive as wire dicts, reports leave through `report`.
Finished task ids are remembered, so a re-sent task is reported again, not redone.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from autogrocery.actors.base import Actor, handles
from autogrocery.domain.messages import Ping, RobotTask, TaskReport, WireError

log = logging.getLogger(__name__)

REMEMBERED_TASKS = 20_000  # per robot: minutes of work, enough to recognise a re-sent task


class RobotActor(Actor):
    name = "robot"

    def __init__(
        self,
        robot_id: str,
        aisle: str,
        report: Callable[[dict[str, Any]], None],
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

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(dict)
    def work(self, wire: dict[str, Any]) -> None:
        try:
            task = RobotTask.from_wire(wire)
        except WireError as exc:
            log.warning("robot %s dropped a bad task: %s", self.robot_id, exc)
            return
        if task.task_id in self.done:
            self._report(task, ok=True)
            return
        if self.stopping.is_set():
            return  # the store re-dispatches unfinished work after a restart
        if self.pick_time and self.stopping.wait(self.pick_time * task.items):
            return
        if self.failure_probability and self.rng.random() < self.failure_probability:
            self._report(task, ok=False, error="gripper fault")
            return
        self.done[task.task_id] = None
        if len(self.done) > REMEMBERED_TASKS:
            self.done.popitem(last=False)
        self._report(task, ok=True)

    def _report(self, task: RobotTask, ok: bool, error: str | None = None) -> None:
        self.report(TaskReport(task.task_id, self.robot_id, ok, error).to_wire())

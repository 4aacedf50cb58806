"""The fleet registry: which robots serve which aisle, their state, and task assignment.

Transport-agnostic: a transport tells it when robots come and go and how to deliver a
task; it decides who gets each task and re-dispatches the tasks of a robot that left.
Tasks of an aisle without a live robot wait (oldest first) until one joins, or until
`overdue` hands them back to be failed.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autogrocery.domain.models import now, rfc3339

log = logging.getLogger(__name__)

Wire = dict[str, Any]
Deliver = Callable[[Wire], None]


@dataclass(slots=True)
class RobotState:
    robot_id: str
    aisle: str
    host: str
    deliver: Deliver
    online: bool = True
    last_seen: float = field(default_factory=now)
    tasks_done: int = 0
    tasks_failed: int = 0
    assigned: dict[str, Wire] = field(default_factory=dict)

    @property
    def state(self) -> str:
        if not self.online:
            return "offline"
        return "busy" if self.assigned else "idle"

    def view(self) -> dict[str, Any]:
        return {
            "robot_id": self.robot_id,
            "aisle": self.aisle,
            "host": self.host,
            "state": self.state,
            "last_seen": rfc3339(self.last_seen),
            "tasks_done": self.tasks_done,
            "tasks_failed": self.tasks_failed,
        }


class Fleet:
    def __init__(self, on_change: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._robots: dict[str, RobotState] = {}
        # aisle -> task_id -> (monotonic time it began waiting, task)
        self._waiting: dict[str, dict[str, tuple[float, Wire]]] = collections.defaultdict(dict)
        self._owner: dict[str, str] = {}  # task_id -> robot_id
        self._on_change = on_change or (lambda view: None)

    def join(self, robot_id: str, aisle: str, host: str, deliver: Deliver) -> None:
        """A robot (re)joins. A robot that joins again (a new connection, a restarted
        process) gets the tasks it held again: it reports the ones it already did."""
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is None:
                robot = RobotState(robot_id, aisle, host, deliver)
                self._robots[robot_id] = robot
            else:
                robot.online, robot.deliver, robot.aisle, robot.host = True, deliver, aisle, host
                robot.last_seen = now()
            held = list(robot.assigned.values())
            waiting = [task for _, task in self._waiting.pop(aisle, {}).values()]
            view = robot.view()
        log.info("robot %s joined aisle %s from %s", robot_id, aisle, host)
        self._on_change(view)
        for task in held:
            self._deliver(robot_id, deliver, task)
        for task in waiting:
            self.dispatch(task)

    def leave(self, robot_id: str) -> None:
        """The robot is gone (died, disconnected, silent): hand its tasks to others."""
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is None or not robot.online:
                return
            robot.online = False
            orphans = list(robot.assigned.values())
            robot.assigned.clear()
            for task in orphans:
                self._owner.pop(task["task_id"], None)
            view = robot.view()
        if orphans:
            log.warning("robot %s is offline; re-dispatching %d task(s)", robot_id, len(orphans))
        else:
            log.info("robot %s is offline", robot_id)
        self._on_change(view)
        for task in orphans:
            self.dispatch(task, avoid=robot_id)

    def seen(self, robot_id: str) -> None:
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is not None:
                robot.last_seen = now()

    def dispatch(self, task: Wire, avoid: str | None = None) -> None:
        """Assign to the least busy live robot of the task's aisle (another than `avoid`
        if there is one), or let the task wait for one."""
        aisle, task_id = task["aisle"], task["task_id"]
        with self._lock:
            self._waiting[aisle].pop(task_id, None)
            candidates = [r for r in self._robots.values() if r.online and r.aisle == aisle]
            others = [r for r in candidates if r.robot_id != avoid]
            candidates = others or candidates
            if not candidates:
                self._waiting[aisle][task_id] = (time.monotonic(), task)
                previous = self._owner.pop(task_id, None)
                if previous is not None and previous in self._robots:
                    self._robots[previous].assigned.pop(task_id, None)
                log.info("no robot for aisle %s; task %s waits", aisle, task_id)
                return
            robot = min(  # the least busy; among equals, the one that did least so far
                candidates, key=lambda r: (len(r.assigned), r.tasks_done + r.tasks_failed)
            )
            was_idle = not robot.assigned
            previous = self._owner.get(task_id)
            if previous is not None and previous in self._robots:
                self._robots[previous].assigned.pop(task_id, None)
            robot.assigned[task_id] = task
            self._owner[task_id] = robot.robot_id
            deliver = robot.deliver
            view = robot.view() if was_idle else None
        if view is not None:
            self._on_change(view)
        self._deliver(robot.robot_id, deliver, task)

    def _deliver(self, robot_id: str, deliver: Deliver, task: Wire) -> None:
        try:
            deliver(task)
        except Exception:
            log.exception("delivery of %s to %s failed", task["task_id"], robot_id)
            self.leave(robot_id)

    def reassign(self, robot_id: str, task_id: str) -> bool:
        """`robot_id` did not acknowledge `task_id` in time: give it to another robot of
        the aisle if there is one, else to the same one again. False if the robot no
        longer holds the task (it reported it, or it moved on already)."""
        with self._lock:
            robot = self._robots.get(robot_id)
            task = robot.assigned.get(task_id) if robot is not None else None
            if task is None or self._owner.get(task_id) != robot_id:
                return False
        log.warning("robot %s did not acknowledge task %s; re-dispatching it", robot_id, task_id)
        self.dispatch(task, avoid=robot_id)
        return True

    def reported(self, robot_id: str, task_id: str, ok: bool) -> None:
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is None:
                return
            robot.last_seen = now()
            if task_id in robot.assigned:  # a duplicate report counts once
                if ok:
                    robot.tasks_done += 1
                else:
                    robot.tasks_failed += 1
            if self._owner.get(task_id) == robot_id:
                del self._owner[task_id]
            robot.assigned.pop(task_id, None)
            view = robot.view() if not robot.assigned else None
        if view is not None:
            self._on_change(view)

    def overdue(self, max_wait: float) -> list[Wire]:
        """Remove and return the tasks that have waited more than `max_wait` seconds."""
        cutoff = time.monotonic() - max_wait
        expired: list[Wire] = []
        with self._lock:
            for queue in self._waiting.values():
                for task_id, (since, task) in list(queue.items()):
                    if since <= cutoff:
                        del queue[task_id]
                        expired.append(task)
        return expired

    def alive(self, aisle: str) -> bool:
        with self._lock:
            return any(r.online and r.aisle == aisle for r in self._robots.values())

    def robots(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.view() for r in sorted(self._robots.values(), key=lambda r: r.robot_id)]

    def holds(self, robot_id: str, task_id: str) -> bool:
        with self._lock:
            return self._owner.get(task_id) == robot_id

    def waiting(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._waiting.values())

"""The fleet registry: which robots serve which aisle, their state, and task assignment.

Transport-agnostic: a transport tells it when robots come and go and how to deliver
tasks; it decides who gets each task and re-dispatches the tasks of a robot that left.
Tasks of an aisle without a live robot wait (oldest first) until one joins, or until
`overdue` hands them back to be failed. Tasks handed over together reach each robot
together (one delivery per robot).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from autogrocery.domain.messages.fulfilment import RobotTask, TaskProgress, TaskReport
from autogrocery.domain.models import now
from autogrocery.domain.records import RobotSeen, RobotWork

log = logging.getLogger(__name__)

Deliver = Callable[[list[RobotTask]], None]
Withdraw = Callable[[list[str]], None]  # task ids; a robot that cannot be told: None


def cannot_withdraw(task_ids: list[str]) -> None:
    """A robot too old to be told: it does the tasks; the store ignores their reports."""


@dataclass(slots=True)
class RobotState:
    robot_id: str
    aisle: str
    host: str
    deliver: Deliver
    withdraw: Withdraw = cannot_withdraw
    online: bool = True
    last_seen: float = field(default_factory=now)
    tasks_done: int = 0
    tasks_failed: int = 0
    assigned: dict[str, RobotTask] = field(default_factory=dict)
    working: TaskProgress | None = None  # the long task in hand, as last reported

    @property
    def state(self) -> str:
        if not self.online:
            return "offline"
        return "busy" if self.assigned else "idle"

    def view(self) -> RobotSeen:
        return RobotSeen(
            self.robot_id,
            self.aisle,
            self.host,
            self.state,
            self.last_seen,
            self.tasks_done,
            self.tasks_failed,
            self._working_on(),
        )

    def _working_on(self) -> RobotWork | None:
        progress = self.working
        task = self.assigned.get(progress.task_id) if progress is not None else None
        if progress is None or task is None or not self.online:
            return None
        return RobotWork(task.task_id, task.order_id, task.op, progress.done, progress.of)


class Fleet:
    def __init__(self, on_change: Callable[[RobotSeen], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._robots: dict[str, RobotState] = {}
        # aisle -> task_id -> (monotonic time it began waiting, task)
        self._waiting: dict[str, dict[str, tuple[float, RobotTask]]] = collections.defaultdict(dict)
        self._owner: dict[str, str] = {}  # task_id -> robot_id
        self._aisles_alive: frozenset[str] | None = None  # recomputed after a join or leave
        self._closing = False  # the store is stopping: nothing is re-dispatched
        self._on_change = on_change or (lambda view: None)

    def join(
        self,
        robot_id: str,
        aisle: str,
        host: str,
        deliver: Deliver,
        withdraw: Withdraw = cannot_withdraw,
    ) -> None:
        """A robot (re)joins. A robot that joins again (a new connection, a restarted
        process) gets the tasks it held again: it reports the ones it already did."""
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is None:
                robot = RobotState(robot_id, aisle, host, deliver, withdraw)
                self._robots[robot_id] = robot
            else:
                robot.online, robot.deliver, robot.aisle, robot.host = True, deliver, aisle, host
                robot.withdraw, robot.working = withdraw, None
                robot.last_seen = now()
            self._aisles_alive = None
            held = list(robot.assigned.values())
            waiting = [task for _, task in self._waiting.pop(aisle, {}).values()]
            view = robot.view()
        log.info("robot %s joined aisle %s from %s", robot_id, aisle, host)
        self._on_change(view)
        if held:
            self._deliver(robot_id, deliver, held)
        if waiting:
            self.dispatch(waiting)

    def leave(self, robot_id: str) -> None:
        """The robot is gone (died, disconnected, silent): hand its tasks to others."""
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is None or not robot.online:
                return
            robot.online, robot.working = False, None
            self._aisles_alive = None
            orphans = list(robot.assigned.values())
            robot.assigned.clear()
            for task in orphans:
                self._owner.pop(task.task_id, None)
            view = robot.view()
            closing = self._closing
        if closing:
            # Unfinished work is dispatched again when the store starts (recovery).
            log.info("robot %s stopped with %d task(s) in hand", robot_id, len(orphans))
            return
        if orphans:
            log.warning("robot %s is offline; re-dispatching %d task(s)", robot_id, len(orphans))
        else:
            log.info("robot %s is offline", robot_id)
        self._on_change(view)
        if orphans:
            self.dispatch(orphans, avoid=robot_id)

    def close(self) -> None:
        """The store is stopping: robots that leave now keep their tasks for the next
        start's recovery instead of handing them around."""
        with self._lock:
            self._closing = True

    def seen(self, robot_id: str) -> None:
        with self._lock:
            robot = self._robots.get(robot_id)
            if robot is not None:
                robot.last_seen = now()

    def progress(self, progress: TaskProgress) -> None:
        """A robot at work on a long task: it is alive, and this is how far it got."""
        with self._lock:
            robot = self._robots.get(progress.robot_id)
            if robot is None or progress.task_id not in robot.assigned:
                return
            robot.last_seen = now()
            robot.working = progress
            view = robot.view()
        self._on_change(view)

    def withdraw(self, task_ids: list[str]) -> None:
        """Take tasks back (their order was cancelled): those waiting for a robot are
        dropped; each robot holding some is told to drop those it has not begun. A
        report for one of them may still come; the store ignores it."""
        told: dict[str, tuple[Withdraw, list[str]]] = {}
        changed: list[RobotSeen] = []
        with self._lock:
            for task_id in task_ids:
                for queue in self._waiting.values():
                    queue.pop(task_id, None)
                robot_id = self._owner.pop(task_id, None)
                robot = self._robots.get(robot_id) if robot_id is not None else None
                if robot is None or robot.assigned.pop(task_id, None) is None:
                    continue
                if robot.working is not None and robot.working.task_id == task_id:
                    robot.working = None
                if not robot.assigned:
                    changed.append(robot.view())
                told.setdefault(robot.robot_id, (robot.withdraw, []))[1].append(task_id)
        for view in changed:
            self._on_change(view)
        for robot_id, (withdraw, ids) in told.items():
            try:
                withdraw(ids)
            except Exception:
                log.exception("robot %s could not be told to drop %s", robot_id, ids)

    def dispatch(self, tasks: list[RobotTask], avoid: str | None = None) -> None:
        """Assign each task to the least busy live robot of its aisle (another than
        `avoid` if there is one), or let it wait for one."""
        deliveries: dict[str, tuple[Deliver, list[RobotTask]]] = {}
        changed: list[RobotSeen] = []
        with self._lock:
            for task in tasks:
                robot = self._assign(task, avoid)
                if robot is None:
                    continue
                if len(robot.assigned) == 1:  # it was idle
                    changed.append(robot.view())
                entry = deliveries.get(robot.robot_id)
                if entry is None:
                    deliveries[robot.robot_id] = (robot.deliver, [task])
                else:
                    entry[1].append(task)
        for view in changed:
            self._on_change(view)
        for robot_id, (deliver, batch) in deliveries.items():
            self._deliver(robot_id, deliver, batch)

    def _assign(self, task: RobotTask, avoid: str | None) -> RobotState | None:
        aisle, task_id = task.aisle, task.task_id
        self._waiting[aisle].pop(task_id, None)
        candidates = [r for r in self._robots.values() if r.online and r.aisle == aisle]
        others = [r for r in candidates if r.robot_id != avoid]
        candidates = others or candidates
        previous = self._owner.pop(task_id, None)
        if previous is not None and previous in self._robots:
            self._robots[previous].assigned.pop(task_id, None)
        if not candidates:
            self._waiting[aisle][task_id] = (time.monotonic(), task)
            log.info("no robot for aisle %s; task %s waits", aisle, task_id)
            return None
        robot = min(  # the least busy; among equals, the one that did least so far
            candidates, key=lambda r: (len(r.assigned), r.tasks_done + r.tasks_failed)
        )
        robot.assigned[task_id] = task
        self._owner[task_id] = robot.robot_id
        return robot

    def _deliver(self, robot_id: str, deliver: Deliver, tasks: list[RobotTask]) -> None:
        try:
            deliver(tasks)
        except Exception:
            log.exception("delivery of %d task(s) to %s failed", len(tasks), robot_id)
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
        self.dispatch([task], avoid=robot_id)
        return True

    def reported(self, reports: list[TaskReport]) -> None:
        changed: list[RobotSeen] = []
        with self._lock:
            for report in reports:
                robot = self._robots.get(report.robot_id)
                if robot is None:
                    continue
                robot.last_seen = now()
                task_id = report.task_id
                if robot.working is not None and robot.working.task_id == task_id:
                    robot.working = None
                if task_id in robot.assigned:  # a duplicate report counts once
                    if report.ok:
                        robot.tasks_done += 1
                    else:
                        robot.tasks_failed += 1
                    del robot.assigned[task_id]
                    if not robot.assigned:
                        changed.append(robot.view())
                if self._owner.get(task_id) == report.robot_id:
                    del self._owner[task_id]
        for view in changed:
            self._on_change(view)

    def overdue(self, max_wait: float) -> list[RobotTask]:
        """Remove and return the tasks that have waited more than `max_wait` seconds."""
        cutoff = time.monotonic() - max_wait
        expired: list[RobotTask] = []
        with self._lock:
            for queue in self._waiting.values():
                for task_id, (since, task) in list(queue.items()):
                    if since <= cutoff:
                        del queue[task_id]
                        expired.append(task)
        return expired

    def served(self, aisle: str, within: float) -> bool:
        """A robot of `aisle` is online, or was seen less than `within` seconds ago (a
        blip: a link outage, a robot restarting). Tasks wait that long for one."""
        if self.alive(aisle):
            return True
        recent = now() - within
        with self._lock:
            return any(r.aisle == aisle and r.last_seen >= recent for r in self._robots.values())

    def alive(self, aisle: str) -> bool:
        alive = self._aisles_alive
        if alive is None:
            with self._lock:
                alive = frozenset(r.aisle for r in self._robots.values() if r.online)
                self._aisles_alive = alive
        return aisle in alive

    def robots(self) -> list[RobotSeen]:
        with self._lock:
            return [r.view() for r in sorted(self._robots.values(), key=lambda r: r.robot_id)]

    def holds(self, robot_id: str, task_id: str) -> bool:
        with self._lock:
            return self._owner.get(task_id) == robot_id

    def waiting(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._waiting.values())

"""The fulfilment actor: robot work. It splits an order into one task per aisle (a
restock's shelving into chunks of at most `shelve_chunk` units per aisle, so that a
customer's pick never waits behind a whole delivery), hands the tasks to the robot hub,
retries what failed, and, when every task of an order is done, tells stock to settle
it. Owner of the tasks table.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autogrocery.domain.errors import Conflict, Unavailable
from autogrocery.domain.messages.fulfilment import (
    AbandonTask,
    DispatchOrder,
    RetryTask,
    RobotTask,
    TaskLine,
    TaskReport,
    WithdrawOrder,
)
from autogrocery.domain.messages.lifecycle import Ping
from autogrocery.domain.messages.ordering import FailOrder
from autogrocery.domain.messages.stock import CancelPicked, SettleOrder
from autogrocery.domain.models import Lines, OrderKind, TaskKind, now
from autogrocery.runtime.base import Actor, handles
from autogrocery.runtime.context import Context
from autogrocery.runtime.replies import tell
from autogrocery.store.task_tables import (
    COUNT_ATTEMPT,
    FINISH_TASK,
    INSERT_TASK,
    TaskTables,
    task_row,
)

if TYPE_CHECKING:
    from autogrocery.transports.base import RobotHub

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RobotPolicy:
    max_attempts: int
    retry_backoff: float
    retry_backoff_max: float
    shelve_chunk: int = 10  # units per shelving task

    def backoff(self, attempt: int) -> float:
        return min(self.retry_backoff * 2.0 ** (attempt - 1), self.retry_backoff_max)


@dataclass(slots=True)
class Work:
    """An order whose robot tasks are out."""

    kind: OrderKind
    lines: Lines
    pending: dict[str, RobotTask] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    ref: str | None = None  # a transfer's id and other store, for its settling
    peer: str | None = None

    def settle(self, order_id: str) -> SettleOrder:
        return SettleOrder(order_id, self.kind, self.lines, self.ref, self.peer)


class FulfilmentActor(Actor):
    name = "fulfilment"

    def __init__(self, ctx: Context, policy: RobotPolicy, hub: RobotHub) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_death = ctx.on_death
        self.peers = ctx.peers
        self.schedule = ctx.scheduler.call_later
        self.policy = policy
        self.hub = hub
        self.work: dict[str, Work] = {}
        self.task_order: dict[str, str] = {}  # task id -> order id, for pending tasks
        self._outgoing: list[RobotTask] = []  # this batch's tasks, handed over after commit
        # Orders whose work ended in this batch (not in the store until it commits): how
        # it ended, and for a cancellation the SKUs already picked.
        self._ended: dict[str, tuple[str, tuple[str, ...]]] = {}

    def on_start(self) -> None:
        self.db = self.writer = self.ctx.connect()
        self.tables = TaskTables(self.db)

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(DispatchOrder)
    def dispatch(self, msg: DispatchOrder) -> None:
        order_id = msg.order_id
        if order_id in self.work:
            return  # already out (a resume racing a dispatch)
        if msg.resume:
            stored = self.tables.tasks(order_id)
            if stored:
                self._resume(msg, stored)
                return
        op = msg.kind.task
        by_aisle: dict[str, list[TaskLine]] = defaultdict(list)
        for line in msg.lines:
            by_aisle[line.aisle].append(TaskLine(line.sku, line.quantity))
        tasks = []
        for aisle, task_lines in sorted(by_aisle.items()):
            parts = (
                [tuple(task_lines)]
                if op is TaskKind.PICK
                else chunked(task_lines, self.policy.shelve_chunk)
            )
            width = len(str(len(parts)))
            for number, part in enumerate(parts, 1):
                task_id = f"{order_id}.{aisle}" + (f".{number:0{width}}" if len(parts) > 1 else "")
                tasks.append(RobotTask(task_id, order_id, op, aisle, part, priority=op.priority))
        at = now()
        for task in tasks:
            self.unit.write(INSERT_TASK, task_row(task, at))
        self._track(msg, tasks)

    def _resume(self, msg: DispatchOrder, stored: list[tuple[RobotTask, str]]) -> None:
        """After a restart: the tasks not done go out again; an order whose tasks are all
        done is settled (again: stock settles once); a cancellation carries on."""
        if any(status == "CANCELLED" for _, status in stored):
            self.unit.tell("stock", CancelPicked(msg.order_id, _picked(stored)))
            return
        failed = [task for task, status in stored if status == "FAILED"]
        if failed:
            reason = f"robots could not do task {failed[0].task_id}"
            self.unit.tell("stock", FailOrder(msg.order_id, reason))
            return
        pending = [task for task, status in stored if status == "PENDING"]
        if pending:
            self._track(msg, pending)
        else:
            settle = SettleOrder(msg.order_id, msg.kind, msg.lines, msg.ref, msg.peer)
            self.unit.tell("stock", settle)

    def _track(self, msg: DispatchOrder, tasks: list[RobotTask]) -> None:
        order_id = msg.order_id
        work = self.work[order_id] = Work(msg.kind, msg.lines, ref=msg.ref, peer=msg.peer)
        for task in tasks:
            work.pending[task.task_id] = task
            work.attempts[task.task_id] = task.attempt - 1
            self.task_order[task.task_id] = order_id
        self._hand_over(tasks)
        self.unit.undo(lambda: self._forget(order_id))

    @handles(TaskReport)
    def reported(self, report: TaskReport) -> None:
        task_id = report.task_id
        order_id = self.task_order.get(task_id)
        work = self.work.get(order_id) if order_id is not None else None
        if work is None or order_id is None or task_id not in work.pending:
            log.debug("report for %s ignored (not pending)", task_id)
            return
        if not report.ok:
            self._failed(order_id, work, report)
            return
        task = work.pending.pop(task_id)
        del self.task_order[task_id]
        self.unit.write(FINISH_TASK, ("DONE", report.robot_id, now(), task_id))
        if work.pending:
            self.unit.undo(lambda: self._pend(order_id, work, task))
            return
        del self.work[order_id]
        self.unit.undo(lambda: self._pend(order_id, work, task))
        self._end(order_id, "picked")
        self.unit.tell("stock", work.settle(order_id))

    def _pend(self, order_id: str, work: Work, task: RobotTask) -> None:
        self.work[order_id] = work
        work.pending[task.task_id] = task
        self.task_order[task.task_id] = order_id

    def _failed(self, order_id: str, work: Work, report: TaskReport) -> None:
        task_id = report.task_id
        attempts = work.attempts.get(task_id, 0) + 1
        work.attempts[task_id] = attempts
        self.unit.undo(lambda: work.attempts.__setitem__(task_id, attempts - 1))
        if attempts >= self.policy.max_attempts:
            reason = f"robots could not do task {task_id} after {attempts} attempts: {report.error}"
            self._fail(order_id, work, task_id, report.robot_id or None, reason)
            return
        self.unit.write(COUNT_ATTEMPT, (attempts, now(), task_id))
        delay = self.policy.backoff(attempts)
        ref = self.actor_ref
        self.unit.then(
            lambda: log.info(
                "task %s failed (%s); retry %d in %.2fs", task_id, report.error, attempts, delay
            )
        )
        self.unit.then(
            lambda: self.ctx.scheduler.call_later(delay, lambda: tell(ref, RetryTask(task_id)))
        )

    @handles(RetryTask)
    def retry(self, msg: RetryTask) -> None:
        order_id = self.task_order.get(msg.task_id)
        work = self.work.get(order_id) if order_id is not None else None
        if work is None or msg.task_id not in work.pending:
            return
        task = work.pending[msg.task_id]
        attempt = work.attempts[msg.task_id] + 1
        again = dataclasses.replace(task, attempt=attempt)
        work.pending[msg.task_id] = again
        self.unit.undo(lambda: work.pending.__setitem__(msg.task_id, task))
        self._hand_over([again])

    @handles(AbandonTask)
    def abandon(self, msg: AbandonTask) -> None:
        """No robot of the task's aisle came in time: the order fails, its stock is freed."""
        order_id = self.task_order.get(msg.task_id)
        work = self.work.get(order_id) if order_id is not None else None
        if work is None or order_id is None or msg.task_id not in work.pending:
            return
        self._fail(order_id, work, msg.task_id, None, msg.reason)

    def _fail(
        self, order_id: str, work: Work, task_id: str, robot_id: str | None, reason: str
    ) -> None:
        self.unit.write(FINISH_TASK, ("FAILED", robot_id, now(), task_id))
        self._end(order_id, "failed")
        self._forget(order_id)
        self.unit.undo(lambda: self._restore(order_id, work))
        self.unit.then(lambda: log.warning("order %s failed: %s", order_id, reason))
        self.unit.tell("stock", FailOrder(order_id, reason))

    @handles(WithdrawOrder)
    def withdraw(self, msg: WithdrawOrder) -> None:
        """A processing order is being cancelled: its tasks not done are withdrawn (robots
        drop those not begun) and stock hears which SKUs were picked; the caller's answer
        travels on with it. Refused (409) once the robots have picked all of it."""
        order_id = msg.order_id
        work = self.work.get(order_id)
        if work is not None:
            pending = list(work.pending)
            aisles = {task.aisle for task in work.pending.values()}
            picked = tuple(sorted({ln.sku for ln in work.lines if ln.aisle not in aisles}))
            at = now()
            for task_id in pending:
                self.unit.write(FINISH_TASK, ("CANCELLED", None, at, task_id))
            self._forget(order_id)
            self.unit.undo(lambda: self._restore(order_id, work))
            self._end(order_id, "cancelled", picked)
            self.unit.then(lambda: self.hub.withdraw(pending))
            self.unit.then(lambda: log.info("order %s cancelled while robots picked", order_id))
            self.forward("stock", CancelPicked(order_id, picked))
            return
        how, picked = self._ended.get(order_id) or self._how_it_ended(order_id)
        if how == "resuming":
            raise Unavailable(f"order {order_id}'s robot work is being resumed", retry_after=1.0)
        if how != "cancelled":  # the work is over: a cancellation carries on, idempotently
            raise Conflict(
                f"order {order_id} can no longer be cancelled: "
                + ("its robots could not pick it" if how == "failed" else "every item is picked")
            )
        self.forward("stock", CancelPicked(order_id, picked))

    def _how_it_ended(self, order_id: str) -> tuple[str, tuple[str, ...]]:
        stored = self.tables.tasks(order_id)
        statuses = {status for _, status in stored}
        if "CANCELLED" in statuses or not stored:  # none: never dispatched, nothing picked
            return "cancelled", _picked(stored)
        if "FAILED" in statuses:
            return "failed", ()
        return ("resuming" if "PENDING" in statuses else "picked"), ()

    def _end(self, order_id: str, how: str, picked: tuple[str, ...] = ()) -> None:
        self._ended[order_id] = (how, picked)
        self.unit.undo(lambda: self._ended.pop(order_id, None))

    def _hand_over(self, tasks: list[RobotTask]) -> None:
        """Queue tasks for the robots; they leave once the batch has committed."""
        mark = len(self._outgoing)
        self._outgoing.extend(tasks)

        def take_back() -> None:
            del self._outgoing[mark:]

        self.unit.undo(take_back)

    def _forget(self, order_id: str) -> None:
        work = self.work.pop(order_id, None)
        if work is not None:
            for task_id in work.pending:
                self.task_order.pop(task_id, None)

    def _restore(self, order_id: str, work: Work) -> None:
        self.work[order_id] = work
        for task_id in work.pending:
            self.task_order[task_id] = order_id

    # --- the batch ----------------------------------------------------------------------

    def before_commit(self) -> None:
        if self._outgoing:
            tasks = self._outgoing
            self.unit.then(lambda: self.hub.dispatch(tasks))

    def after_batch(self) -> None:
        self._outgoing = []
        self._ended.clear()


def _picked(stored: list[tuple[RobotTask, str]]) -> tuple[str, ...]:
    """The SKUs of an order's tasks that robots finished."""
    return tuple(
        sorted({ln.sku for task, status in stored if status == "DONE" for ln in task.lines})
    )


def chunked(lines: Sequence[TaskLine], size: int) -> list[tuple[TaskLine, ...]]:
    """`lines` cut into parts of at most `size` units each (a line may span parts)."""
    parts: list[tuple[TaskLine, ...]] = []
    part: list[TaskLine] = []
    room = size
    for line in lines:
        left = line.quantity
        while left:
            take = min(left, room)
            part.append(TaskLine(line.sku, take))
            left -= take
            room -= take
            if not room:
                parts.append(tuple(part))
                part, room = [], size
    if part:
        parts.append(tuple(part))
    return parts

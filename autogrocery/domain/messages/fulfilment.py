"""Fulfilment and its robots: the tasks fulfilment hands robots (and withdraws), what
robots report back (done, failed, how far), and the commands fulfilment takes.

The robot tasks, reports and progress may cross hosts: each carries a `kind` and the
wire version, and encodes to plain JSON data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from autogrocery.domain.messages.wire import WIRE_VERSION, WireError, require
from autogrocery.domain.models import Lines, OrderKind, TaskKind


@dataclass(frozen=True, slots=True)
class TaskLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class RobotTask:
    """Pick (customer order) or shelve (restock) the lines of one aisle, or a chunk of
    them (shelving is cut into chunks). A robot does the tasks it holds lowest
    `priority` first (`TaskKind.priority`: customer picks before shelving)."""

    KIND: ClassVar[str] = "task"
    task_id: str
    order_id: str
    op: TaskKind
    aisle: str
    lines: tuple[TaskLine, ...]
    attempt: int = 1
    priority: int = 0

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)

    def to_wire(self) -> dict[str, object]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "task_id": self.task_id,
            "order_id": self.order_id,
            "op": self.op.value,
            "aisle": self.aisle,
            "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in self.lines],
            "attempt": self.attempt,
            "priority": self.priority,
        }

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> RobotTask:
        try:
            lines = tuple(
                TaskLine(require(ln, "sku", str), require(ln, "quantity", int))
                for ln in require(data, "lines", list)
            )
            op = TaskKind(require(data, "op", str))
            return cls(
                task_id=require(data, "task_id", str),
                order_id=require(data, "order_id", str),
                op=op,
                aisle=require(data, "aisle", str),
                lines=lines,
                attempt=require(data, "attempt", int),
                # A store older than priorities sends none: the op's own.
                priority=require(data, "priority", int) if "priority" in data else op.priority,
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise WireError(f"bad task: {exc}") from None


@dataclass(frozen=True, slots=True)
class TaskReport:
    """A robot's outcome for one task. Duplicates are expected and harmless."""

    KIND: ClassVar[str] = "report"
    task_id: str
    robot_id: str
    ok: bool
    error: str | None = None

    def to_wire(self) -> dict[str, object]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "task_id": self.task_id,
            "robot_id": self.robot_id,
            "ok": self.ok,
            "error": self.error,
        }

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> TaskReport:
        error = data.get("error")
        if error is not None and not isinstance(error, str):
            raise WireError("report: field 'error' must be a string or null")
        return cls(
            task_id=require(data, "task_id", str),
            robot_id=require(data, "robot_id", str),
            ok=require(data, "ok", bool),
            error=error,
        )


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """A robot at work on a long task says how far it got (`done` of `of` units), so
    that the store sees it alive and what it does."""

    KIND: ClassVar[str] = "progress"
    task_id: str
    robot_id: str
    done: int
    of: int

    def to_wire(self) -> dict[str, object]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "task_id": self.task_id,
            "robot_id": self.robot_id,
            "done": self.done,
            "of": self.of,
        }

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> TaskProgress:
        return cls(
            task_id=require(data, "task_id", str),
            robot_id=require(data, "robot_id", str),
            done=require(data, "done", int),
            of=require(data, "of", int),
        )


@dataclass(frozen=True, slots=True)
class WithdrawTasks:
    """A robot: drop these tasks if it has not begun them (their order was cancelled).
    One it is doing or has done is reported as usual; the store ignores that report."""

    KIND: ClassVar[str] = "withdraw"
    task_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WithdrawOrder:
    """Fulfilment: take back the robot work of a processing order being cancelled, and
    tell stock which SKUs the robots had picked. Refused once every pick is done."""

    order_id: str


@dataclass(frozen=True, slots=True)
class DispatchOrder:
    """Fulfilment: send (or, with `resume`, send again) the robot work of an order. A
    transfer carries its id (`ref`) and the other store (`peer`) on to its settling."""

    order_id: str
    kind: OrderKind
    lines: Lines
    resume: bool = False
    ref: str | None = None
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class RetryTask:
    task_id: str


@dataclass(frozen=True, slots=True)
class AbandonTask:
    """No robot of the task's aisle came within the deadline: fail its order."""

    task_id: str
    reason: str

"""SQL for the fulfilment actor's table: tasks (robot work per order and aisle)."""

from __future__ import annotations

import orjson

from autogrocery.domain.messages.fulfilment import RobotTask, TaskLine
from autogrocery.domain.models import TaskKind
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert, Update

INSERT_TASK = Insert(
    "tasks",
    ("task_id", "order_id", "op", "aisle", "lines", "status", "attempts", "updated_at"),
    conflict="OR IGNORE",
)
FINISH_TASK = Update(
    "tasks", "task_id", ("status", "robot_id", "updated_at"), where="status = 'PENDING'"
)
COUNT_ATTEMPT = Update("tasks", "task_id", ("attempts", "updated_at"))


def task_row(task: RobotTask, at: float) -> tuple[str, str, str, str, bytes, str, int, float]:
    lines = orjson.dumps([[ln.sku, ln.quantity] for ln in task.lines])
    return (task.task_id, task.order_id, task.op.value, task.aisle, lines, "PENDING", 0, at)


class TaskTables:
    def __init__(self, db: SharedConnection) -> None:
        self.db = db

    def tasks(self, order_id: str) -> list[tuple[RobotTask, str]]:
        """An order's tasks and their status (PENDING, DONE or FAILED)."""
        rows = self.db.execute(  # ids are "<order id>.<aisle>[.<chunk>]": a key range
            "SELECT task_id, order_id, op, aisle, lines, status, attempts FROM tasks "
            "WHERE task_id > ? AND task_id < ? ORDER BY task_id",
            (order_id + ".", order_id + "/"),
        ).fetchall()
        return [
            (
                RobotTask(
                    task_id=row["task_id"],
                    order_id=row["order_id"],
                    op=op,
                    aisle=row["aisle"],
                    lines=tuple(TaskLine(sku, qty) for sku, qty in orjson.loads(row["lines"])),
                    attempt=row["attempts"] + 1,
                    priority=op.priority,
                ),
                row["status"],
            )
            for row in rows
            for op in (TaskKind(row["op"]),)
        ]

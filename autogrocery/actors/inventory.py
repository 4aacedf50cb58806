"""The inventory actor: stock levels, reservations, the ledger, alerts and robot work.

It is the only writer of its tables, so its in-memory copy of stock levels is
authoritative; every change is written through in one transaction before it is
acknowledged or passed on.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from autogrocery.actors.base import Actor, handles
from autogrocery.actors.context import Context
from autogrocery.actors.stock import (
    DISPATCHED,
    FAILED,
    FINALIZED,
    RELEASED,
    RESERVED,
    AlreadyDone,
    Held,
    RobotPolicy,
    Stock,
    Work,
)
from autogrocery.actors.stock_ops import StockOperations
from autogrocery.domain import events
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages import (
    AbandonTask,
    BillOrder,
    DispatchOrder,
    FailOrder,
    Ping,
    Recover,
    ReleaseStock,
    RepriceStock,
    ReserveStock,
    RetryTask,
    RobotTask,
    TaskLine,
    TaskReport,
)
from autogrocery.domain.models import (
    LineRequest,
    MovementType,
    OrderKind,
    OrderStatus,
    TaskKind,
)
from autogrocery.store.db import transaction
from autogrocery.store.inventory_tables import InventoryTables

if TYPE_CHECKING:
    from autogrocery.transports.base import RobotHub

log = logging.getLogger(__name__)


_DEAD_ORDER = {None, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED}


class InventoryActor(StockOperations, Actor):
    name = "inventory"

    def __init__(self, ctx: Context, policy: RobotPolicy, hub: RobotHub) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_death = ctx.on_death
        self.policy = policy
        self.hub = hub
        self.work: dict[str, Work] = {}
        self.task_order: dict[str, str] = {}
        self.held: dict[str, Held] = {}  # stock orders RESERVED or DISPATCHED

    def on_start(self) -> None:
        self.db: sqlite3.Connection = self.ctx.connect()
        self.tables = InventoryTables(self.db)
        self._load()

    def close(self) -> None:
        self.db.close()

    def _load(self) -> None:
        """(Re)read stock from the store: at start, and after a rolled-back write."""
        self.stock = {
            row["sku"]: Stock(
                row["sku"],
                row["name"],
                row["aisle"],
                row["unit"],
                row["on_hand"],
                row["reserved"],
                row["min_level"],
            )
            for row in self.tables.products()
        }
        self.prices = self.tables.prices()
        self.alerted = self.tables.alerts()
        self.held = {
            order_id: Held(OrderKind(kind), state, lines)
            for order_id, (kind, state, lines) in self.tables.held_orders().items()
        }

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    # --- reservations ------------------------------------------------------------------

    @handles(ReserveStock)
    def reserve(self, msg: ReserveStock) -> list[dict[str, Any]]:
        self._known(msg.lines)
        unpriced = [ln.sku for ln in msg.lines if ln.sku not in self.prices]
        if unpriced:
            raise ValidationError(
                f"{', '.join(unpriced)} has no price yet and is not for sale",
                [{"field": "items", "message": f"{sku} is not for sale"} for sku in unpriced],
            )
        shortages = [
            {"sku": ln.sku, "requested": ln.quantity, "available": self.stock[ln.sku].available}
            for ln in msg.lines
            if self.stock[ln.sku].available < ln.quantity
        ]
        if shortages:
            from autogrocery.domain.errors import InsufficientStock

            raise InsufficientStock(shortages)
        for ln in msg.lines:
            self.stock[ln.sku].reserved += ln.quantity
        prices = {ln.sku: self.prices[ln.sku] for ln in msg.lines}
        self._write(
            {ln.sku for ln in msg.lines},
            extra=lambda: self.tables.insert_stock_order(
                msg.order_id,
                OrderKind.CUSTOMER,
                RESERVED,
                [(ln.sku, ln.quantity, prices[ln.sku], 0) for ln in msg.lines],
                msg.expires_at,
            ),
        )
        self.held[msg.order_id] = Held(
            OrderKind.CUSTOMER,
            RESERVED,
            [
                {
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "unit_price": prices[ln.sku],
                    "unit_cost": 0,
                }
                for ln in msg.lines
            ],
        )
        return [
            {
                "sku": ln.sku,
                "name": self.stock[ln.sku].name,
                "aisle": self.stock[ln.sku].aisle,
                "quantity": ln.quantity,
                "unit_price": prices[ln.sku],
            }
            for ln in msg.lines
        ]

    @handles(ReleaseStock)
    def release(self, msg: ReleaseStock) -> None:
        lines = self._lines(msg.order_id)
        for line in lines:
            self.stock[line["sku"]].reserved -= line["quantity"]

        def cas() -> None:
            if not self.tables.move_stock_order(msg.order_id, RESERVED, RELEASED):
                raise AlreadyDone

        try:
            self._write({line["sku"] for line in lines}, extra=cas)
        except AlreadyDone:
            log.debug("reservation %s was already released", msg.order_id)
            return
        self.held.pop(msg.order_id, None)

    # --- robot work --------------------------------------------------------------------

    @handles(DispatchOrder)
    def dispatch(self, msg: DispatchOrder) -> None:
        order_id = msg.order_id
        held = self.held.get(order_id)
        row = self.tables.stock_order(order_id) if held is None else None
        state = held.state if held is not None else row["state"] if row is not None else None
        if state is None and msg.kind == OrderKind.RESTOCK:
            tasks = self._plan(
                order_id, TaskKind.SHELVE, [(ln.sku, ln.quantity) for ln in msg.lines]
            )
            with transaction(self.db):
                self.tables.insert_stock_order(
                    order_id,
                    OrderKind.RESTOCK,
                    DISPATCHED,
                    [(ln.sku, ln.quantity, 0, ln.unit_cost or 0) for ln in msg.lines],
                )
                self.tables.insert_tasks(tasks)
            self.held[order_id] = Held(
                OrderKind.RESTOCK,
                DISPATCHED,
                [
                    {
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "unit_price": 0,
                        "unit_cost": ln.unit_cost or 0,
                    }
                    for ln in msg.lines
                ],
            )
            self._send(order_id, msg.kind, tasks)
        elif state == RESERVED:
            lines = [(r["sku"], r["quantity"]) for r in self._lines(order_id)]
            tasks = self._plan(order_id, TaskKind.PICK, lines)
            with transaction(self.db):
                if not self.tables.move_stock_order(order_id, RESERVED, DISPATCHED):
                    return
                self.tables.insert_tasks(tasks)
            if held is not None:
                held.state = DISPATCHED
            self._send(order_id, msg.kind, tasks)
        elif state == DISPATCHED:
            if order_id not in self.work:
                pending = [
                    task for task, status in self.tables.tasks(order_id) if status == "PENDING"
                ]
                self._send(order_id, msg.kind, pending)
        elif state == FINALIZED and row is not None:
            self._pass_on(order_id, OrderKind(row["kind"]))
        else:
            self.ctx.peers.tell("ordering", FailOrder(order_id, "no stock is held for this order"))

    def _plan(
        self, order_id: str, op: TaskKind, lines: Iterable[tuple[str, int]]
    ) -> list[RobotTask]:
        by_aisle: dict[str, list[TaskLine]] = defaultdict(list)
        for sku, quantity in lines:
            by_aisle[self.stock[sku].aisle].append(TaskLine(sku, quantity))
        return [
            RobotTask(f"{order_id}.{aisle}", order_id, op, aisle, tuple(task_lines))
            for aisle, task_lines in sorted(by_aisle.items())
        ]

    def _send(self, order_id: str, kind: OrderKind, tasks: list[RobotTask]) -> None:
        work = self.work.setdefault(order_id, Work(kind))
        for task in tasks:
            work.pending[task.task_id] = task
            work.attempts.setdefault(task.task_id, task.attempt - 1)
            self.task_order[task.task_id] = order_id
        for task in tasks:
            self.hub.dispatch(task.to_wire())

    @handles(TaskReport)
    def reported(self, report: TaskReport) -> None:
        order_id = self.task_order.get(report.task_id)
        work = self.work.get(order_id) if order_id else None
        if work is None or order_id is None or report.task_id not in work.pending:
            log.debug("report for %s ignored (not pending)", report.task_id)
            return
        if report.ok:
            del work.pending[report.task_id]
            del self.task_order[report.task_id]
            if work.pending:
                with transaction(self.db):
                    self.tables.finish_task(report.task_id, "DONE", report.robot_id)
            else:
                self._finalize(order_id, work.kind, report)
            return
        attempts = work.attempts.get(report.task_id, 0) + 1
        work.attempts[report.task_id] = attempts
        if attempts < self.policy.max_attempts:
            with transaction(self.db):
                self.tables.count_attempt(report.task_id, attempts)
            delay = self.policy.backoff(attempts)
            log.info(
                "task %s failed (%s); retry %d in %.2fs",
                report.task_id,
                report.error,
                attempts,
                delay,
            )
            ref = self.actor_ref
            self.ctx.scheduler.call_later(delay, lambda: _tell(ref, RetryTask(report.task_id)))
        else:
            self._fail(
                order_id,
                work.kind,
                report,
                f"robots could not do task {report.task_id} "
                f"after {attempts} attempts: {report.error}",
            )

    @handles(RetryTask)
    def retry(self, msg: RetryTask) -> None:
        order_id = self.task_order.get(msg.task_id)
        work = self.work.get(order_id) if order_id else None
        if work is None or msg.task_id not in work.pending:
            return
        task = work.pending[msg.task_id]
        retried = RobotTask(
            task.task_id,
            task.order_id,
            task.op,
            task.aisle,
            task.lines,
            work.attempts[msg.task_id] + 1,
        )
        work.pending[msg.task_id] = retried
        self.hub.dispatch(retried.to_wire())

    @handles(AbandonTask)
    def abandon(self, msg: AbandonTask) -> None:
        """No robot of the task's aisle came in time: the order fails, its stock is freed."""
        order_id = self.task_order.get(msg.task_id)
        work = self.work.get(order_id) if order_id else None
        if work is None or order_id is None or msg.task_id not in work.pending:
            return
        self._fail(order_id, work.kind, TaskReport(msg.task_id, "", False, msg.reason), msg.reason)

    def _finalize(self, order_id: str, kind: OrderKind, last: TaskReport) -> None:
        """Every task is done: stock changes once, guarded by the stock order's state."""
        lines = self._lines(order_id)
        sign = -1 if kind == OrderKind.CUSTOMER else 1
        movement = MovementType.OUT if kind == OrderKind.CUSTOMER else MovementType.IN
        for line in lines:
            stock = self.stock[line["sku"]]
            stock.on_hand += sign * line["quantity"]
            if kind == OrderKind.CUSTOMER:
                stock.reserved -= line["quantity"]

        def cas() -> None:
            self.tables.finish_task(last.task_id, "DONE", last.robot_id)
            if not self.tables.move_stock_order(order_id, DISPATCHED, FINALIZED):
                raise AlreadyDone

        self._forget(order_id)
        try:
            self._write(
                {line["sku"] for line in lines},
                [
                    (ln["sku"], movement.value, sign * ln["quantity"], order_id, None)
                    for ln in lines
                ],
                extra=cas,
            )
        except AlreadyDone:
            log.warning("order %s was finalized before; not again", order_id)
            return
        self._pass_on(order_id, kind, lines)

    def _pass_on(
        self, order_id: str, kind: OrderKind, lines: list[sqlite3.Row] | None = None
    ) -> None:
        """After finalizing: the bill (orders) or the new prices (restocks). Idempotent."""
        lines = lines if lines is not None else self.tables.stock_lines(order_id)
        if kind == OrderKind.CUSTOMER:
            bill = tuple((ln["sku"], ln["quantity"], ln["unit_price"]) for ln in lines)
            self.ctx.peers.tell("pricing", BillOrder(order_id, bill))
        else:
            levels = tuple(
                (
                    ln["sku"],
                    ln["quantity"],
                    ln["unit_cost"],
                    self.stock[ln["sku"]].available,
                    self.stock[ln["sku"]].min_level,
                )
                for ln in lines
            )
            self.ctx.peers.tell("pricing", RepriceStock(order_id, levels))

    def _fail(self, order_id: str, kind: OrderKind, last: TaskReport, reason: str) -> None:
        lines = self._lines(order_id) if kind == OrderKind.CUSTOMER else []
        for line in lines:
            self.stock[line["sku"]].reserved -= line["quantity"]

        def cas() -> None:
            self.tables.finish_task(last.task_id, "FAILED", last.robot_id or None)
            if not self.tables.move_stock_order(order_id, DISPATCHED, FAILED):
                raise AlreadyDone

        self._forget(order_id)
        try:
            self._write({line["sku"] for line in lines}, extra=cas)
        except AlreadyDone:
            return
        log.warning("order %s failed: %s", order_id, reason)
        self.ctx.peers.tell("ordering", FailOrder(order_id, reason))

    def _lines(self, order_id: str) -> list[Any]:
        held = self.held.get(order_id)
        return held.lines if held is not None else self.tables.stock_lines(order_id)

    def _forget(self, order_id: str) -> None:
        self.held.pop(order_id, None)
        work = self.work.pop(order_id, None)
        if work is not None:
            for task_id in list(work.pending) + list(work.attempts):
                self.task_order.pop(task_id, None)

    # --- operators ---------------------------------------------------------------------

    @handles(Recover)
    def recover(self, _: Recover) -> int:
        """Release reservations whose order never got stored or has ended."""
        released = 0
        for row in self.tables.reserved_orders():
            if row["status"] in _DEAD_ORDER:
                self.release(ReleaseStock(row["order_id"]))
                released += 1
        if released:
            log.info("recovery: released %d orphaned reservation(s)", released)
        return released

    # --- helpers -----------------------------------------------------------------------

    def _known(self, lines: Iterable[LineRequest]) -> None:
        errors = [
            {"field": f"items[{i}].sku", "message": f"unknown SKU {ln.sku!r}"}
            for i, ln in enumerate(lines)
            if ln.sku not in self.stock
        ]
        if errors:
            raise ValidationError(errors[0]["message"], errors)

    def _write(
        self,
        touched: set[str],
        movements: Iterable[tuple[str, str, int, str | None, str | None]] = (),
        extra: Callable[[], None] | None = None,
    ) -> None:
        """Persist the in-memory levels of `touched`, the movements and alert changes."""
        flips: list[tuple[str, bool]] = []
        try:
            with transaction(self.db):
                if extra is not None:
                    extra()
                self.tables.set_levels(
                    (self.stock[s].on_hand, self.stock[s].reserved, s) for s in touched
                )
                self.tables.add_movements(movements)
                for sku in touched:
                    stock = self.stock[sku]
                    low = stock.available < stock.min_level
                    if low and sku not in self.alerted:
                        self.tables.raise_alert(sku, stock.available, stock.min_level)
                        flips.append((sku, True))
                    elif not low and sku in self.alerted:
                        self.tables.clear_alert(sku)
                        flips.append((sku, False))
        except BaseException:
            self._load()
            raise
        for sku, raised in flips:
            stock = self.stock[sku]
            if raised:
                self.alerted.add(sku)
            else:
                self.alerted.discard(sku)
            self.ctx.events.publish(
                events.ALERT_RAISED if raised else events.ALERT_CLEARED, stock.view()
            )
        for sku in touched:
            self.ctx.events.publish(events.STOCK_CHANGED, self.stock[sku].view)


def _tell(ref: Any, message: Any) -> None:
    import pykka

    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        log.debug("%s dropped: actor stopped", type(message).__name__)

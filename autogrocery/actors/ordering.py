"""The orders: owner of orders, restocks and transfers, their status and bills.

A part of the stock actor (`StockActor.parts`), so an order and the stock it holds
change in one batch and one commit: a preview's hold and its order, a settlement's
movements and the order's completion, an order's end and its hold freed (the book's
`release`). Nothing compensates for a half-done step, since none can be half done.

Open orders (PREVIEWED, PROCESSING) live in memory as immutable records and are
written through: a batch writes each changed order's final state once and commits
before anyone hears of it. Final orders are read back from the store when somebody
asks about them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autogrocery.actors.ordering_records import (
    order_writes,
    previewed_order,
    processing_order,
    refused_order,
)
from autogrocery.domain import events
from autogrocery.domain.errors import Conflict, NotFound, Unavailable
from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import DispatchOrder, WithdrawOrder
from autogrocery.domain.messages.lifecycle import Recover
from autogrocery.domain.messages.ordering import (
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    ExpireDue,
    FailOrder,
)
from autogrocery.domain.models import (
    FINAL_STATUSES,
    TRANSFER_OWNER,
    OrderKind,
    OrderStatus,
    lines_total,
    now,
)
from autogrocery.domain.records import Confirmation, OrderRecord
from autogrocery.runtime.base import handles
from autogrocery.store.ordering_tables import INSERT_METRIC, OrderTables, metric_row

if TYPE_CHECKING:
    from autogrocery.actors.stock_book import StockBook
    from autogrocery.runtime.base import Host
    from autogrocery.runtime.context import Context
    from autogrocery.runtime.unit import UnitOfWork
    from autogrocery.store.shared import SharedConnection
    from autogrocery.transports.base import MetricsChannel, RobotHub

log = logging.getLogger(__name__)

HOLDS = (OrderKind.CUSTOMER, OrderKind.TRANSFER_OUT)  # kinds that hold stock until they end


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    reservation_ttl: float  # how long a preview holds its stock
    refused_hold: float  # how long it still holds it after a confirm was refused
    aisle_deadline: float  # how long an aisle may go without a robot before confirms fail


class Orders:
    def __init__(
        self,
        book: StockBook,
        host: Host,
        ctx: Context,
        policy: OrderPolicy,
        metrics: MetricsChannel,
        hub: RobotHub,
    ) -> None:
        self.book = book
        self.host = host
        self.ctx = ctx
        self.policy = policy
        self.ttl = policy.reservation_ttl
        self.metrics = metrics
        self.hub = hub
        self.open: dict[str, OrderRecord] = {}
        self.keys: dict[tuple[str, str], str] = {}  # (owner, request key) of open orders
        self._changed: dict[str, OrderRecord] = {}  # this batch's changes, written once
        self._new: set[str] = set()  # created in this batch
        self._finished: list[Metric] = []  # this batch's metrics, published after commit

    @property
    def unit(self) -> UnitOfWork:
        return self.host.unit

    def load(self, db: SharedConnection) -> None:
        """The open orders, from the store (at the actor's start)."""
        self.tables = OrderTables(db)
        self.next_seq = self.tables.last_metric_seq() + 1
        for order in self.tables.open_orders():
            self._keep(order)

    # --- creating (after stock checked the lines) --------------------------------------

    def create(self, msg: CreateOrder) -> OrderRecord:
        """Store an order whose lines stock checked (and, for an order or a transfer out,
        holds: the hold and the order stand or fall in one batch)."""
        if msg.request_key is not None:
            existing = self.by_key(msg.owner, msg.request_key)
            if existing is not None:  # a retry: the first order stands, this one is freed
                if msg.kind in HOLDS and msg.refused is None:
                    self.book.release(msg.order_id)
                return existing
        created = now()
        if msg.kind == OrderKind.CUSTOMER:
            order = previewed_order(msg, created, self.ttl)
        elif msg.refused is not None:  # a transfer this store cannot ship: it ends here
            order = refused_order(msg, created)
        else:
            order = processing_order(msg, created)
            self._dispatch(order)
        self._record(None, order)
        return order

    def _dispatch(self, order: OrderRecord, *, resume: bool = False) -> None:
        """Its robot work to fulfilment (a transfer's id and other store with it)."""
        ref = peer = None
        if order.kind.transfer:
            ref, peer = order.request_key, order.owner.removeprefix(TRANSFER_OWNER)
        self.unit.tell(
            "fulfilment",
            DispatchOrder(order.order_id, order.kind, order.lines, resume, ref, peer),
        )

    # --- customer commands -------------------------------------------------------------

    @handles(ConfirmOrder)
    def confirm(self, msg: ConfirmOrder) -> Confirmation:
        order = self._owned(msg.order_id, msg.owner, OrderKind.CUSTOMER)
        if order.status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED):
            return Confirmation(order.order_id, order.status, first=False)
        if order.status != OrderStatus.PREVIEWED:
            raise Conflict(f"order {msg.order_id} is {order.status} and cannot be confirmed")
        if order.expires_at is not None and order.expires_at <= now():
            raise Conflict(f"order {msg.order_id} expired and cannot be confirmed")
        deadline = self.policy.aisle_deadline
        unserved = sorted(
            {ln.aisle for ln in order.lines if not self.hub.served(ln.aisle, deadline)}
        )
        if unserved:
            self._refuse_unserved(order, unserved)
            return Confirmation(order.order_id, order.status, first=False)
        confirmed = order.moved(OrderStatus.PROCESSING, confirmed_at=now())
        self._record(order, confirmed)
        self._dispatch(order)
        return Confirmation(order.order_id, OrderStatus.PROCESSING, first=True)

    def _refuse_unserved(self, order: OrderRecord, aisles: list[str]) -> None:
        """No robot of an aisle was seen within the deadline: 503, and the preview holds
        its stock only `refused_hold` longer (not the whole reservation time)."""
        hold_until = now() + self.policy.refused_hold
        if order.expires_at is None or hold_until < order.expires_at:
            self._record(order, order.moved(OrderStatus.PREVIEWED, expires_at=hold_until))
        expires = order.expires_at if order.expires_at is not None else hold_until
        hold = max(0.0, min(hold_until, expires) - now())
        retry = min(10.0, max(1.0, hold / 4))
        self.host.refuse(
            Unavailable(
                f"no robot of aisle {', '.join(aisles)} has been seen for over "
                f"{self.policy.aisle_deadline:g}s; the order keeps its stock for {hold:.0f}s "
                f"more: retry the confirm within that time",
                retry_after=retry,
                aisles=aisles,
            )
        )

    @handles(CancelOrder)
    def cancel(self, msg: CancelOrder) -> OrderRecord | None:
        """A preview is cancelled here, its hold freed; a processing order goes through
        fulfilment (which refuses once every pick is done), then stock (which puts back
        what was picked and calls `close_cancelled`, which answers)."""
        order = self._owned(msg.order_id, msg.owner, OrderKind.CUSTOMER)
        if msg.previews_only and order.status != OrderStatus.PREVIEWED:
            raise Conflict(
                f"order {msg.order_id} is {order.status}; only a preview can be cancelled"
            )
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status == OrderStatus.PROCESSING:
            self.host.forward("fulfilment", WithdrawOrder(order.order_id))
            return None
        if order.status != OrderStatus.PREVIEWED:
            raise Conflict(f"order {msg.order_id} is {order.status} and can no longer be cancelled")
        cancelled = order.moved(OrderStatus.CANCELLED, ended_at=now())
        self._record(order, cancelled)
        self.book.release(order.order_id)
        return cancelled

    def close_cancelled(self, order_id: str) -> OrderRecord:
        """Stock has taken back what a cancelled processing order held: it is CANCELLED
        (and analytics hears of it)."""
        order = self._owned(order_id, None, OrderKind.CUSTOMER)
        if order.status == OrderStatus.PROCESSING:
            return self._finish(order, OrderStatus.CANCELLED, completed=False)
        if order.status != OrderStatus.CANCELLED:  # cannot happen: fulfilment decides once
            log.error("order %s is %s; its cancellation is ignored", order.order_id, order.status)
        return order

    @handles(ExpireDue)
    def expire_due(self, _: ExpireDue) -> int:
        at = now()
        due = [
            order
            for order in self.open.values()
            if order.status == OrderStatus.PREVIEWED
            and order.expires_at is not None
            and order.expires_at <= at
        ]
        for order in due:
            self._record(order, order.moved(OrderStatus.EXPIRED, ended_at=at))
            self.book.release(order.order_id)
        return len(due)

    # --- outcomes (from stock's settlement and fulfilment; duplicates are expected) ------

    def complete(self, order_id: str) -> None:
        """Stock was settled: bill the order and mark it COMPLETED."""
        order = self.open.get(order_id)
        if order is None or order.status != OrderStatus.PROCESSING:
            log.debug("order %s is not processing; completion ignored", order_id)
            return
        bill = lines_total(order.lines)  # the prices locked at preview
        if bill != order.total:
            log.error("order %s billed %d but previewed %d", order.order_id, bill, order.total)
        self._finish(order, OrderStatus.COMPLETED, total=bill)

    @handles(FailOrder)
    def fail(self, msg: FailOrder) -> None:
        order = self.open.get(msg.order_id)
        if order is None or order.status != OrderStatus.PROCESSING:
            log.debug("order %s is not processing; failure ignored", msg.order_id)
            return
        self._finish(order, OrderStatus.FAILED, reason=msg.reason)
        if order.kind in HOLDS:
            self.book.release(order.order_id)

    def _finish(
        self,
        order: OrderRecord,
        status: OrderStatus,
        total: int | None = None,
        reason: str | None = None,
        *,
        completed: bool = True,
    ) -> OrderRecord:
        """The order's final status, and the metric that tells analytics of it;
        `completed`: it is what its latency is measured to (not a cancellation)."""
        at = now()
        done = order.moved(status, ended_at=at, completed=completed, total=total, reason=reason)
        self._record(order, done)
        metric = Metric(
            self.next_seq,
            order.kind,
            order.order_id,
            status.value,
            order.items,
            order.created_at,
            at,
        )
        self.next_seq += 1
        self._finished.append(metric)
        self.unit.undo(self._unnumber)
        self.unit.write(INSERT_METRIC, metric_row(metric))
        return done

    def _unnumber(self) -> None:
        self.next_seq -= 1
        self._finished.pop()

    # --- recovery ---------------------------------------------------------------------

    @handles(Recover)
    def recover(self, _: Recover) -> dict[str, int]:
        """Previews past their time expire; orders in progress are dispatched again."""
        expired = self.expire_due(ExpireDue())
        resumed = 0
        for order in self.open.values():
            if order.status == OrderStatus.PROCESSING:
                self._dispatch(order, resume=True)
                resumed += 1
        if expired or resumed:
            log.info("recovery: %d preview(s) expired, %d order(s) resumed", expired, resumed)
        return {"expired": expired, "resumed": resumed}

    # --- the batch ----------------------------------------------------------------------

    def before_commit(self) -> None:
        """Each changed order's final state, once (`order_writes`); the batch's metrics
        are published after the commit."""
        write = self.unit.write
        for statement, row in order_writes(self._changed, self._new, self.ctx.chain):
            write(statement, row)
        if self._finished:
            finished = self._finished
            self.unit.then(lambda: self._publish(finished))

    def after_batch(self) -> None:
        self._changed = {}
        self._new = set()
        self._finished = []

    def _publish(self, metrics: list[Metric]) -> None:
        try:
            self.metrics.publish(metrics)
        except Exception:
            log.exception("%d metric(s) not published; analytics will replay them", len(metrics))

    # --- the open orders --------------------------------------------------------------

    def _record(self, before: OrderRecord | None, after: OrderRecord) -> None:
        """Take `after` as the order's state: in memory now, in the store at commit."""
        order_id = after.order_id
        staged = self._changed.get(order_id)
        self._keep(after)
        self._changed[order_id] = after
        if before is None:
            self._new.add(order_id)

        def restore() -> None:
            self._forget(after)
            if before is not None:
                self._keep(before)
            if staged is not None:
                self._changed[order_id] = staged
            else:
                self._changed.pop(order_id, None)
                self._new.discard(order_id)

        self.unit.undo(restore)
        self.unit.then(lambda: self._announce(before, after))

    def _keep(self, order: OrderRecord) -> None:
        if order.status in FINAL_STATUSES:
            self._forget(order)
            return
        self.open[order.order_id] = order
        if order.request_key is not None:
            self.keys[(order.owner, order.request_key)] = order.order_id

    def _forget(self, order: OrderRecord) -> None:
        self.open.pop(order.order_id, None)
        if order.request_key is not None:
            self.keys.pop((order.owner, order.request_key), None)

    def by_key(self, owner: str, request_key: str) -> OrderRecord | None:
        order_id = self.keys.get((owner, request_key))
        if order_id is not None:
            return self.open[order_id]
        for order in self._changed.values():  # finished in this very batch
            if order.owner == owner and order.request_key == request_key:
                return order
        return self.tables.by_request_key(owner, request_key)

    def _owned(self, order_id: str, owner: str | None, kind: OrderKind) -> OrderRecord:
        order = self.open.get(order_id) or self._changed.get(order_id)
        if order is None:
            order = self.tables.get(order_id)
        if order is None or order.kind != kind or (owner is not None and order.owner != owner):
            raise NotFound(f"no order {order_id}")
        return order

    def _announce(self, before: OrderRecord | None, after: OrderRecord) -> None:
        kind = after.kind.lower() if after.kind != OrderKind.CUSTOMER else "order"
        if before is not None and before.status == after.status:
            log.info("%s %s now expires at %s", kind, after.order_id, after.expires_at)
        else:
            self._log_move(kind, before, after)
        if after.kind.transfer:  # operators only: nobody of the store owns it
            self.ctx.events.publish(events.TRANSFER_UPDATED, after)
            return
        event = events.RESTOCK_UPDATED if after.kind == OrderKind.RESTOCK else events.ORDER_UPDATED
        self.ctx.events.publish(event, after, owner=after.owner)

    def _log_move(self, kind: str, before: OrderRecord | None, after: OrderRecord) -> None:
        log.info(
            "%s %s %s -> %s",
            kind,
            after.order_id,
            before.status if before is not None else "new",
            after.status,
            extra={"order_id": after.order_id, "status": after.status.value},
        )

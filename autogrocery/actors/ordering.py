"""The ordering actor: owner of orders and restocks, their status and history."""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from autogrocery.actors.base import Actor, handles
from autogrocery.actors.context import Context
from autogrocery.domain import events
from autogrocery.domain.errors import Conflict, NotFound, Unavailable
from autogrocery.domain.messages import (
    CancelOrder,
    CompleteOrder,
    ConfirmOrder,
    CreateRestock,
    DescribeSkus,
    DispatchOrder,
    ExpireDue,
    FailOrder,
    Metric,
    Ping,
    PreviewOrder,
    Recover,
    ReleaseStock,
    ReserveStock,
)
from autogrocery.domain.models import OrderKind, OrderStatus, new_id, now
from autogrocery.domain.money import format_money
from autogrocery.domain.views import order_view
from autogrocery.store.db import transaction
from autogrocery.store.ordering_tables import OrderTables

if TYPE_CHECKING:
    from autogrocery.transports.base import MetricsChannel, RobotHub

log = logging.getLogger(__name__)


class OrderingActor(Actor):
    name = "ordering"

    def __init__(
        self,
        ctx: Context,
        reservation_ttl: float,
        metrics: MetricsChannel,
        hub: RobotHub,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_death = ctx.on_death
        self.ttl = reservation_ttl
        self.metrics = metrics
        self.hub = hub

    def on_start(self) -> None:
        self.db: sqlite3.Connection = self.ctx.connect()
        self.tables = OrderTables(self.db)

    def close(self) -> None:
        self.db.close()

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    # --- customer orders -------------------------------------------------------------

    @handles(PreviewOrder)
    def preview(self, msg: PreviewOrder) -> dict[str, Any]:
        if msg.request_key and (done := self.tables.by_request_key(msg.owner, msg.request_key)):
            return order_view(dict(done), self.tables.lines(done["order_id"]))
        order_id = new_id("ord")
        created = now()
        expires = created + self.ttl
        reserved: list[dict[str, Any]] = self.ctx.peers.ask(
            "inventory", ReserveStock(order_id, msg.lines, expires), self.ctx.ask_timeout
        )
        total = sum(line["quantity"] * line["unit_price"] for line in reserved)
        try:
            with transaction(self.db):
                self.tables.insert_order(
                    order_id,
                    OrderKind.CUSTOMER,
                    msg.owner,
                    OrderStatus.PREVIEWED,
                    total,
                    reserved,
                    created,
                    expires_at=expires,
                    request_key=msg.request_key,
                )
        except BaseException:
            self.ctx.peers.tell("inventory", ReleaseStock(order_id))
            raise
        return self._announce(order_id, None, OrderStatus.PREVIEWED)

    @handles(ConfirmOrder)
    def confirm(self, msg: ConfirmOrder) -> tuple[dict[str, Any], bool]:
        order = self._owned(msg.order_id, msg.owner, OrderKind.CUSTOMER)
        status = order["status"]
        if status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED):
            return {"order_id": msg.order_id, "status": status}, False
        if status != OrderStatus.PREVIEWED:
            raise Conflict(f"order {msg.order_id} is {status} and cannot be confirmed")
        if order["expires_at"] <= now():
            self._expire([msg.order_id])
            raise Conflict(f"order {msg.order_id} expired and cannot be confirmed")
        dead = sorted(a for a in self.tables.aisles(msg.order_id) if not self.hub.alive(a))
        if dead:
            raise Unavailable(f"no robot is alive for aisle {', '.join(dead)}")
        with transaction(self.db):
            if not self.tables.move(msg.order_id, OrderStatus.PREVIEWED, OrderStatus.PROCESSING):
                raise Conflict(f"order {msg.order_id} changed while confirming")
        self.ctx.peers.tell("inventory", DispatchOrder(msg.order_id, OrderKind.CUSTOMER))
        self._announce(msg.order_id, order, OrderStatus.PROCESSING)
        return {"order_id": msg.order_id, "status": OrderStatus.PROCESSING.value}, True

    @handles(CancelOrder)
    def cancel(self, msg: CancelOrder) -> dict[str, Any]:
        order = self._owned(msg.order_id, msg.owner, OrderKind.CUSTOMER)
        if order["status"] != OrderStatus.PREVIEWED:
            raise Conflict(
                f"order {msg.order_id} is {order['status']}; only a preview can be cancelled"
            )
        with transaction(self.db):
            if not self.tables.move(msg.order_id, OrderStatus.PREVIEWED, OrderStatus.CANCELLED):
                raise Conflict(f"order {msg.order_id} changed while cancelling")
        # Asked, not told: the answer to a cancel means the stock is free again.
        self.ctx.peers.ask("inventory", ReleaseStock(msg.order_id), self.ctx.ask_timeout)
        self._announce(msg.order_id, order, OrderStatus.CANCELLED)
        return {"order_id": msg.order_id, "status": OrderStatus.CANCELLED.value}

    @handles(ExpireDue)
    def expire_due(self, _: ExpireDue) -> int:
        return self._expire(self.tables.due_previews(now()))

    def _expire(self, order_ids: list[str]) -> int:
        if not order_ids:
            return 0
        with transaction(self.db):
            expired = [
                oid
                for oid in order_ids
                if self.tables.move(oid, OrderStatus.PREVIEWED, OrderStatus.EXPIRED)
            ]
        for order_id in expired:
            self.ctx.peers.tell("inventory", ReleaseStock(order_id))
            self._announce(order_id, None, OrderStatus.EXPIRED)
        return len(expired)

    # --- restocks ----------------------------------------------------------------------

    @handles(CreateRestock)
    def restock(self, msg: CreateRestock) -> dict[str, Any]:
        if msg.request_key and (done := self.tables.by_request_key(msg.owner, msg.request_key)):
            return _restock_receipt(done["order_id"], done["total"])
        names = self.ctx.peers.ask(
            "inventory", DescribeSkus(tuple(ln.sku for ln in msg.lines)), self.ctx.ask_timeout
        )
        order_id = new_id("rst")
        created = now()
        lines = [
            {
                "sku": ln.sku,
                "name": names[ln.sku]["name"],
                "aisle": names[ln.sku]["aisle"],
                "quantity": ln.quantity,
                "unit_price": ln.unit_cost or 0,
            }
            for ln in msg.lines
        ]
        total = sum(line["quantity"] * line["unit_price"] for line in lines)
        with transaction(self.db):
            self.tables.insert_order(
                order_id,
                OrderKind.RESTOCK,
                msg.owner,
                OrderStatus.PROCESSING,
                total,
                lines,
                created,
                confirmed_at=created,
                request_key=msg.request_key,
            )
        self.ctx.peers.tell("inventory", DispatchOrder(order_id, OrderKind.RESTOCK, msg.lines))
        self._announce(order_id, None, OrderStatus.PROCESSING)
        return _restock_receipt(order_id, total)

    # --- outcomes (told by inventory and pricing; duplicates are expected) ------------

    @handles(CompleteOrder)
    def complete(self, msg: CompleteOrder) -> None:
        self._finish(msg.order_id, OrderStatus.COMPLETED, total=msg.total)

    @handles(FailOrder)
    def fail(self, msg: FailOrder) -> None:
        self._finish(msg.order_id, OrderStatus.FAILED, reason=msg.reason)

    def _finish(
        self,
        order_id: str,
        status: OrderStatus,
        total: int | None = None,
        reason: str | None = None,
    ) -> None:
        with transaction(self.db):
            order = self.tables.get(order_id)
            if order is None or not self.tables.move(
                order_id, OrderStatus.PROCESSING, status, total=total, reason=reason
            ):
                log.debug("order %s already finished; %s ignored", order_id, status)
                return
            if total is not None and total != order["total"]:
                log.error("order %s billed %s but previewed %s", order_id, total, order["total"])
            finished = now()
            seq = self.tables.add_metric(order, status, finished)
        metric = Metric(
            seq,
            OrderKind(order["kind"]),
            order_id,
            status.value,
            order["items"],
            order["created_at"],
            finished,
        )
        try:
            self.metrics.publish(metric.to_wire())
        except Exception:
            log.exception("metric %d not published now; analytics will replay it", seq)
        self._announce(order_id, order, status)

    # --- recovery ---------------------------------------------------------------------

    @handles(Recover)
    def recover(self, _: Recover) -> dict[str, int]:
        expired = self._expire(self.tables.due_previews(now()))
        resumed = 0
        for order in self.tables.processing():
            lines = (
                self.tables.restock_lines(order["order_id"])
                if (order["kind"] == OrderKind.RESTOCK)
                else ()
            )
            self.ctx.peers.tell(
                "inventory", DispatchOrder(order["order_id"], OrderKind(order["kind"]), lines)
            )
            resumed += 1
        if expired or resumed:
            log.info("recovery: %d preview(s) expired, %d order(s) resumed", expired, resumed)
        return {"expired": expired, "resumed": resumed}

    # --- helpers ----------------------------------------------------------------------

    def _owned(self, order_id: str, owner: str | None, kind: OrderKind) -> sqlite3.Row:
        order = self.tables.get(order_id)
        if (
            order is None
            or order["kind"] != kind
            or (owner is not None and order["owner"] != owner)
        ):
            raise NotFound(f"no order {order_id}")
        return order

    def _announce(
        self, order_id: str, before: sqlite3.Row | None, status: OrderStatus
    ) -> dict[str, Any]:
        order = self.tables.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id}")
        view = order_view(dict(order), self.tables.lines(order_id))
        log.info(
            "%s %s %s -> %s",
            "restock" if order["kind"] == OrderKind.RESTOCK else "order",
            order_id,
            before["status"] if before is not None else "new",
            status.value,
            extra={"order_id": order_id, "status": status.value},
        )
        kind = (
            events.RESTOCK_UPDATED if order["kind"] == OrderKind.RESTOCK else events.ORDER_UPDATED
        )
        self.ctx.events.publish(kind, view, owner=order["owner"])
        return view


def _restock_receipt(restock_id: str, total: int) -> dict[str, Any]:
    return {
        "restock_id": restock_id,
        "status": OrderStatus.PROCESSING.value,
        "total_cost": format_money(total),
    }

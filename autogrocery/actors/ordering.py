"""The ordering actor: owner of orders and restocks, their status and history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
from autogrocery.domain.models import FINAL_STATUSES, OrderKind, OrderStatus, new_id, now
from autogrocery.domain.money import format_money
from autogrocery.domain.views import order_view
from autogrocery.store.db import transaction
from autogrocery.store.ordering_tables import OrderTables

if TYPE_CHECKING:
    from autogrocery.transports.base import MetricsChannel, RobotHub

log = logging.getLogger(__name__)


@dataclass(slots=True)
class OpenOrder:
    """An order or restock not yet final, kept equal to what is stored."""

    row: dict[str, Any]
    lines: list[dict[str, Any]]

    @property
    def status(self) -> str:
        return str(self.row["status"])

    @property
    def kind(self) -> OrderKind:
        return OrderKind(self.row["kind"])


class OrderingActor(Actor):
    """Open orders live in memory (written through to the store) so a transition costs
    one transaction and no reads; final ones are read back from the store on demand."""

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
        self.open: dict[str, OpenOrder] = {}

    def on_start(self) -> None:
        self.db = self.ctx.connect()
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
            order = self._create(
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
        view = order_view(order.row, order.lines)
        self._announce(order, "new", view)
        return view

    @handles(ConfirmOrder)
    def confirm(self, msg: ConfirmOrder) -> tuple[dict[str, Any], bool]:
        order = self._owned(msg.order_id, msg.owner, OrderKind.CUSTOMER)
        status = order.status
        if status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED):
            return {"order_id": msg.order_id, "status": status}, False
        if status != OrderStatus.PREVIEWED:
            raise Conflict(f"order {msg.order_id} is {status} and cannot be confirmed")
        if order.row["expires_at"] <= now():
            self._expire([msg.order_id])
            raise Conflict(f"order {msg.order_id} expired and cannot be confirmed")
        dead = sorted({ln["aisle"] for ln in order.lines if not self.hub.alive(ln["aisle"])})
        if dead:
            raise Unavailable(f"no robot is alive for aisle {', '.join(dead)}")
        if not self._move(order, OrderStatus.PROCESSING):
            raise Conflict(f"order {msg.order_id} changed while confirming")
        self.ctx.peers.tell("inventory", DispatchOrder(msg.order_id, OrderKind.CUSTOMER))
        self._announce(order, OrderStatus.PREVIEWED)
        return {"order_id": msg.order_id, "status": OrderStatus.PROCESSING.value}, True

    @handles(CancelOrder)
    def cancel(self, msg: CancelOrder) -> dict[str, Any]:
        order = self._owned(msg.order_id, msg.owner, OrderKind.CUSTOMER)
        if order.status != OrderStatus.PREVIEWED:
            raise Conflict(
                f"order {msg.order_id} is {order.status}; only a preview can be cancelled"
            )
        if not self._move(order, OrderStatus.CANCELLED):
            raise Conflict(f"order {msg.order_id} changed while cancelling")
        # Asked, not told: the answer to a cancel means the stock is free again.
        self.ctx.peers.ask("inventory", ReleaseStock(msg.order_id), self.ctx.ask_timeout)
        self._announce(order, OrderStatus.PREVIEWED)
        return {"order_id": msg.order_id, "status": OrderStatus.CANCELLED.value}

    @handles(ExpireDue)
    def expire_due(self, _: ExpireDue) -> int:
        return self._expire(self.tables.due_previews(now()))

    def _expire(self, order_ids: list[str]) -> int:
        expired = 0
        for order_id in order_ids:
            order = self._load(order_id)
            if order is not None and self._move(order, OrderStatus.EXPIRED):
                self.ctx.peers.tell("inventory", ReleaseStock(order_id))
                self._announce(order, OrderStatus.PREVIEWED)
                expired += 1
        return expired

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
        order = self._create(
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
        self._announce(order, "new")
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
        order = self._load(order_id)
        if order is None or order.status != OrderStatus.PROCESSING:
            log.debug("order %s already finished; %s ignored", order_id, status)
            return
        if total is not None and total != order.row["total"]:
            log.error("order %s billed %s but previewed %s", order_id, total, order.row["total"])
        seq = self._move(order, status, total=total, reason=reason, metric=True)
        if not seq:
            return
        row = order.row
        metric = Metric(
            seq,
            order.kind,
            order_id,
            status.value,
            row["items"],
            row["created_at"],
            row["completed_at"],
        )
        try:
            self.metrics.publish(metric.to_wire())
        except Exception:
            log.exception("metric %d not published now; analytics will replay it", seq)
        self._announce(order, OrderStatus.PROCESSING)

    # --- recovery ---------------------------------------------------------------------

    @handles(Recover)
    def recover(self, _: Recover) -> dict[str, int]:
        self.open.clear()  # what the store holds is the truth
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

    # --- the open orders -------------------------------------------------------------

    def _create(
        self,
        order_id: str,
        kind: OrderKind,
        owner: str,
        status: OrderStatus,
        total: int,
        lines: list[dict[str, Any]],
        created: float,
        **stamps: Any,
    ) -> OpenOrder:
        with transaction(self.db):
            self.tables.insert_order(order_id, kind, owner, status, total, lines, created, **stamps)
        row = {
            "order_id": order_id,
            "kind": kind.value,
            "owner": owner,
            "status": status.value,
            "total": total,
            "items": sum(ln["quantity"] for ln in lines),
            "created_at": created,
            "confirmed_at": stamps.get("confirmed_at"),
            "completed_at": None,
            "expires_at": stamps.get("expires_at"),
            "reason": None,
        }
        order = OpenOrder(row, sorted(lines, key=lambda ln: ln["sku"]))
        self.open[order_id] = order
        return order

    def _load(self, order_id: str) -> OpenOrder | None:
        order = self.open.get(order_id)
        if order is not None:
            return order
        row = self.tables.get(order_id)
        if row is None:
            return None
        order = OpenOrder(dict(row), [dict(line) for line in self.tables.lines(order_id)])
        if order.status not in FINAL_STATUSES:
            self.open[order_id] = order
        return order

    def _move(
        self,
        order: OpenOrder,
        to_status: OrderStatus,
        *,
        total: int | None = None,
        reason: str | None = None,
        metric: bool = False,
    ) -> int:
        """Compare-and-set the status in the store, then in memory. Returns 0 when the
        store had moved on; else 1, or the metric's sequence number with `metric`."""
        order_id = order.row["order_id"]
        with transaction(self.db):
            at = self.tables.move(
                order_id, OrderStatus(order.status), to_status, total=total, reason=reason
            )
            if at is None:
                self.open.pop(order_id, None)  # stale: read it afresh next time
                return 0
            seq = self.tables.add_metric(order.row, to_status, at) if metric else 1
        row = order.row
        row["status"] = to_status.value
        if to_status == OrderStatus.PROCESSING:
            row["confirmed_at"] = at
        elif to_status in (OrderStatus.COMPLETED, OrderStatus.FAILED):
            row["completed_at"] = at
        if total is not None:
            row["total"] = total
        if reason is not None:
            row["reason"] = reason
        if to_status in FINAL_STATUSES:
            self.open.pop(order_id, None)
        return seq

    def _owned(self, order_id: str, owner: str | None, kind: OrderKind) -> OpenOrder:
        order = self._load(order_id)
        if (
            order is None
            or order.kind != kind
            or (owner is not None and order.row["owner"] != owner)
        ):
            raise NotFound(f"no order {order_id}")
        return order

    def _announce(self, order: OpenOrder, before: str, view: dict[str, Any] | None = None) -> None:
        row = order.row
        order_id = row["order_id"]
        log.info(
            "%s %s %s -> %s",
            "restock" if order.kind == OrderKind.RESTOCK else "order",
            order_id,
            before,
            row["status"],
            extra={"order_id": order_id, "status": row["status"]},
        )
        kind = events.RESTOCK_UPDATED if order.kind == OrderKind.RESTOCK else events.ORDER_UPDATED
        snapshot = view if view is not None else _Snapshot(row, order.lines)
        self.ctx.events.publish(kind, snapshot, owner=row["owner"])


class _Snapshot:
    """An order's view, built only if somebody subscribed to it (and only once)."""

    __slots__ = ("lines", "row")

    def __init__(self, row: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        self.row = dict(row)
        self.lines = lines

    def __call__(self) -> dict[str, Any]:
        return order_view(self.row, self.lines)


def _restock_receipt(restock_id: str, total: int) -> dict[str, Any]:
    return {
        "restock_id": restock_id,
        "status": OrderStatus.PROCESSING.value,
        "total_cost": format_money(total),
    }

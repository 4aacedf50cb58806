"""The core's records as the API shows them: each record becomes the reply Struct that
the OpenAPI document declares (schemas_*.py), and is encoded from that (bodies.py).

One shape per reply, built in one place: handlers and live events (`encode_event`)
start from these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import msgspec
from msgspec import UNSET

from autogrocery.api.bodies import encode_json
from autogrocery.contract import markdowns
from autogrocery.contract.chain import Transfer, TransferLine
from autogrocery.contract.ops import Alert as AlertReply
from autogrocery.contract.ops import ExpiringLot, Robot, RobotWork
from autogrocery.contract.orders import (
    Order,
    OrderLine,
    OrderState,
    Restock,
    RestockLine,
    RestockReceipt,
)
from autogrocery.contract.stock import CatalogItem, InventoryItem, Movement
from autogrocery.domain import events
from autogrocery.domain.at_risk import AtRiskLot, MarkdownSold, MarkedLot
from autogrocery.domain.events import Event
from autogrocery.domain.models import (
    FINAL_STATUSES,
    TRANSFER_OWNER,
    OrderStatus,
    Product,
    rfc3339,
)
from autogrocery.domain.money import format_money
from autogrocery.domain.records import (
    Alert,
    LotLevel,
    MovementRecord,
    OrderRecord,
    RobotSeen,
    StockLevel,
)


def order(record: OrderRecord) -> Order:
    """A customer order; `expires_at` only while PREVIEWED, `reason` only once FAILED."""
    status = record.status
    previewed = status == OrderStatus.PREVIEWED and record.expires_at is not None
    return Order(
        order_id=record.order_id,
        kind="CUSTOMER",
        status=record.status.value,
        items=[
            OrderLine(
                sku=line.sku,
                name=line.name,
                aisle=line.aisle,
                quantity=line.quantity,
                unit_price=format_money(line.unit_price),
                line_total=format_money(line.unit_price * line.quantity),
                expiry_date=line.expiry_date.isoformat() if line.expiry_date else UNSET,
            )
            for line in record.lines
        ],
        total=format_money(record.total),
        created_at=_time(record.created_at),
        confirmed_at=rfc3339(record.confirmed_at),
        completed_at=rfc3339(record.completed_at),
        latency_ms=record.latency_ms,
        expires_at=_time(record.expires_at) if previewed else UNSET,
        reason=record.reason if status == OrderStatus.FAILED and record.reason else UNSET,
    )


def restock(record: OrderRecord) -> Restock:
    return Restock(
        restock_id=record.order_id,
        kind="RESTOCK",
        status=record.status.value,
        items=[
            RestockLine(
                sku=line.sku,
                name=line.name,
                aisle=line.aisle,
                quantity=line.quantity,
                unit_cost=format_money(line.unit_price),
                line_total=format_money(line.unit_price * line.quantity),
                expiry_date=_day(line.expiry_date),
                mfd_date=_day(line.mfd_date),
            )
            for line in record.lines
        ],
        total_cost=format_money(record.total),
        created_at=_time(record.created_at),
        completed_at=rfc3339(record.completed_at),
        latency_ms=record.latency_ms,
    )


def restock_receipt(record: OrderRecord) -> RestockReceipt:
    return RestockReceipt(
        restock_id=record.order_id,
        status=record.status.value,  # type: ignore[arg-type]  # a restock is never PREVIEWED
        total_cost=format_money(record.total),
    )


def order_state(order_id: str, status: OrderStatus) -> OrderState:
    return OrderState(order_id=order_id, status=status.value)


def transfer(record: OrderRecord) -> Transfer:
    """A chain's transfer as this store does its part: picking what it ships
    (TRANSFER_OUT) or shelving what it receives (TRANSFER_IN)."""
    ended = record.ended_at if record.status in FINAL_STATUSES else None
    return Transfer(
        transfer_id=record.request_key or record.order_id,
        order_id=record.order_id,
        kind=record.kind.value,  # type: ignore[arg-type]  # transfers are TRANSFER_OUT or _IN
        peer_store=record.owner.removeprefix(TRANSFER_OWNER),
        status=record.status.value,
        items=[
            TransferLine(
                sku=line.sku,
                name=line.name,
                aisle=line.aisle,
                quantity=line.quantity,
                expiry_date=_day(line.expiry_date),
            )
            for line in record.lines
        ],
        reason=record.reason,
        created_at=_time(record.created_at),
        completed_at=rfc3339(ended),
    )


def inventory_item(level: StockLevel) -> InventoryItem:
    return InventoryItem(
        sku=level.sku,
        name=level.name,
        aisle=level.aisle,
        on_hand=level.on_hand,
        reserved=level.reserved,
        expired=level.expired,
        available=level.available,
        min_level=level.min_level,
        price=format_money(level.price),
        unit_cost=format_money(level.unit_cost),
    )


def catalog_item(product: Product, level: StockLevel) -> CatalogItem:
    """A product for sale: the catalog's description with the store's price and stock."""
    return CatalogItem(
        sku=level.sku,
        name=level.name,
        aisle=level.aisle,
        unit=level.unit,
        price=format_money(level.price),
        available=level.available,
        category=product.category,
        brand=product.brand,
        size=product.size,
        container_type=product.container_type,
        box_size=product.box_size,
        name_en=product.name_en,
        name_he=product.name_he,
    )


def alert(found: Alert) -> AlertReply:
    return alert_from_facts(found.facts())


def alert_from_facts(facts: Mapping[str, object]) -> AlertReply:
    """An alert's view from its plain values (`Alert.facts`, or a notice's)."""
    raised_at = facts["raised_at"]
    shown = _time(raised_at) if isinstance(raised_at, int | float) else ""
    return msgspec.convert({**facts, "raised_at": shown}, AlertReply)


def movement(record: MovementRecord) -> Movement:
    return Movement(
        id=record.id,
        sku=record.sku,
        type=record.type.value,  # type: ignore[arg-type]  # the StrEnum's values are the Literal's
        delta=record.delta,
        ref=record.ref,
        user=record.user,
        at=_time(record.at),
        lot_id=record.lot_id,
    )


def robot(seen: RobotSeen) -> Robot:
    work = seen.working_on
    return Robot(
        robot_id=seen.robot_id,
        aisle=seen.aisle,
        host=seen.host,
        state=seen.state,  # type: ignore[arg-type]  # RobotState.state: idle, busy or offline
        last_seen=rfc3339(seen.last_seen),
        tasks_done=seen.tasks_done,
        tasks_failed=seen.tasks_failed,
        working_on=None
        if work is None
        else RobotWork(
            task_id=work.task_id,
            order_id=work.order_id,
            op=work.op.value,
            done=work.done,
            of=work.of,
        ),
    )


def expiring_lot(lot: LotLevel, level: StockLevel, today: date) -> ExpiringLot:
    return ExpiringLot(
        lot_id=lot.lot_id,
        sku=lot.sku,
        name=level.name,
        aisle=level.aisle,
        expiry_date=_day(lot.expiry),
        days_left=(lot.expiry - today).days if lot.expiry else None,
        expired=lot.expired,
        on_hand=lot.on_hand,
        held=lot.held,
        unit_cost=format_money(lot.unit_cost),
    )


def marked_lot(lot: MarkedLot) -> markdowns.MarkedLot:
    return markdowns.MarkedLot(**_marked_fields(lot))


def at_risk_lot(found: AtRiskLot) -> markdowns.AtRiskLot:
    seen, hint, lot = found.seen, found.suggested, found.lot
    return markdowns.AtRiskLot(
        **_marked_fields(lot),
        daily_sales=round(found.daily_sales, 3),
        selling_days=round(seen.window, 3),
        expected_sold=seen.sold,
        left_at_expiry=seen.left,
        cost_at_risk=format_money(seen.left * lot.unit_cost),
        suggested_price=format_money(hint.price),
        left_at_suggested=hint.left,
        below_cost=hint.below_cost,
    )


def markdown_entry(row: MarkdownSold, at: float) -> markdowns.MarkdownEntry:
    """A markdown as `Reader.markdowns` gives it, active or not at `at`."""
    lot_id, sku, price, since, until, user, sold, value = row
    return markdowns.MarkdownEntry(
        lot_id=lot_id,
        sku=sku,
        price=format_money(price),
        since=_time(since),
        until=rfc3339(until),
        user=user,
        active=until is None or at < until,
        sold=sold,
        sold_value=format_money(value),
    )


def _marked_fields(lot: MarkedLot) -> dict[str, Any]:
    markdown = lot.markdown
    return {
        "lot_id": lot.lot_id,
        "sku": lot.sku,
        "name": lot.name,
        "expiry_date": _day(lot.expiry),
        "on_hand": lot.on_hand,
        "held": lot.held,
        "unit_cost": format_money(lot.unit_cost),
        "price": format_money(lot.price),
        "markdown": None
        if markdown is None
        else markdowns.Markdown(
            format_money(markdown.price), _time(markdown.since), rfc3339(markdown.until)
        ),
    }


# What each live event's record becomes (the rest carry their data as it is).
EVENT_VIEWS: dict[str, Callable[..., object]] = {
    events.ORDER_UPDATED: order,
    events.RESTOCK_UPDATED: restock,
    events.TRANSFER_UPDATED: transfer,
    events.STOCK_CHANGED: inventory_item,
    events.ALERT_RAISED: alert,
    events.ALERT_CLEARED: alert,
    events.ROBOT_UPDATED: robot,
}


def encode_event(event: Event) -> bytes:
    """The event's JSON, `{type, at, data}`, its record shown as the API shows it."""
    view = EVENT_VIEWS.get(event.type)
    data = event.data if view is None else view(event.data)
    return encode_json({"type": event.type, "at": event.at, "data": data})


def _time(ts: float | None) -> str:
    return rfc3339(ts) or ""


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None

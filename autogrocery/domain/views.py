"""Shaping the actors' records into the API's JSON objects (see API.md)."""

from __future__ import annotations

from typing import Any

from autogrocery.domain.models import OrderKind, OrderLine, OrderStatus, rfc3339
from autogrocery.domain.money import format_money
from autogrocery.domain.records import Alert, OrderRecord, StockLevel


def line_view(line: OrderLine, kind: OrderKind) -> dict[str, Any]:
    unit = line.unit_price
    return {
        "sku": line.sku,
        "name": line.name,
        "aisle": line.aisle,
        "quantity": line.quantity,
        ("unit_price" if kind == OrderKind.CUSTOMER else "unit_cost"): format_money(unit),
        "line_total": format_money(unit * line.quantity),
    }


def order_view(order: OrderRecord) -> dict[str, Any]:
    kind = order.kind
    latency = None
    if order.completed_at is not None:
        latency = round((order.completed_at - order.created_at) * 1000.0, 3)
    items = [line_view(line, kind) for line in order.lines]
    if kind == OrderKind.RESTOCK:
        return {
            "restock_id": order.order_id,
            "kind": kind.value,
            "status": order.status.value,
            "items": items,
            "total_cost": format_money(order.total),
            "created_at": rfc3339(order.created_at),
            "completed_at": rfc3339(order.completed_at),
            "latency_ms": latency,
        }
    view = {
        "order_id": order.order_id,
        "kind": kind.value,
        "status": order.status.value,
        "items": items,
        "total": format_money(order.total),
        "created_at": rfc3339(order.created_at),
        "confirmed_at": rfc3339(order.confirmed_at),
        "completed_at": rfc3339(order.completed_at),
        "latency_ms": latency,
    }
    if order.status == OrderStatus.PREVIEWED:
        view["expires_at"] = rfc3339(order.expires_at)
    if order.status == OrderStatus.FAILED and order.reason:
        view["reason"] = order.reason
    return view


def restock_receipt(order: OrderRecord) -> dict[str, Any]:
    return {
        "restock_id": order.order_id,
        "status": order.status.value,
        "total_cost": format_money(order.total),
    }


def stock_view(level: StockLevel) -> dict[str, Any]:
    return {
        "sku": level.sku,
        "name": level.name,
        "aisle": level.aisle,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "min_level": level.min_level,
        "price": format_money(level.price),
        "unit_cost": format_money(level.unit_cost),
    }


def catalog_view(level: StockLevel) -> dict[str, Any]:
    return {
        "sku": level.sku,
        "name": level.name,
        "aisle": level.aisle,
        "unit": level.unit,
        "price": format_money(level.price),
        "available": level.available,
    }


def alert_view(alert: Alert) -> dict[str, Any]:
    level = alert.level
    return {
        "sku": level.sku,
        "name": level.name,
        "aisle": level.aisle,
        "available": level.available,
        "min_level": level.min_level,
        "raised_at": rfc3339(alert.raised_at),
    }

"""Shaping the actors' records into the API's JSON objects (see docs/api.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from autogrocery.domain.models import (
    FINAL_STATUSES,
    TRANSFER_OWNER,
    Lines,
    OrderKind,
    OrderLine,
    OrderStatus,
    Product,
    rfc3339,
)
from autogrocery.domain.money import format_money
from autogrocery.domain.records import Alert, LotLevel, OrderRecord, StockLevel


def line_view(line: OrderLine, kind: OrderKind) -> dict[str, Any]:
    unit = line.unit_price
    view = {
        "sku": line.sku,
        "name": line.name,
        "aisle": line.aisle,
        "quantity": line.quantity,
        ("unit_price" if kind == OrderKind.CUSTOMER else "unit_cost"): format_money(unit),
        "line_total": format_money(unit * line.quantity),
    }
    if kind == OrderKind.RESTOCK:
        view["expiry_date"] = line.expiry_date.isoformat() if line.expiry_date else None
        view["mfd_date"] = line.mfd_date.isoformat() if line.mfd_date else None
    return view


_items: dict[int, tuple[Lines, list[dict[str, Any]]]] = {}  # id(lines) -> their views


def items_view(lines: Lines, kind: OrderKind) -> list[dict[str, Any]]:
    """The lines' views. An order is shown many times (its answer, an event per change)
    with the same lines tuple, so the views are kept by the tuple's identity. The list
    is shared: never change it."""
    cached = _items.get(id(lines))
    if cached is not None and cached[0] is lines:
        return cached[1]
    if len(_items) >= 4096:
        _items.clear()
    views = [line_view(line, kind) for line in lines]
    _items[id(lines)] = (lines, views)
    return views


def order_view(order: OrderRecord) -> dict[str, Any]:
    kind = order.kind
    latency = None
    if order.completed_at is not None:
        latency = round((order.completed_at - order.created_at) * 1000.0, 3)
    items = items_view(order.lines, kind)
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


def transfer_view(order: OrderRecord) -> dict[str, Any]:
    """A chain's transfer as this store does its part: picking what it ships
    (TRANSFER_OUT) or shelving what it receives (TRANSFER_IN)."""
    return {
        "transfer_id": order.request_key or order.order_id,
        "order_id": order.order_id,
        "kind": order.kind.value,
        "peer_store": order.owner.removeprefix(TRANSFER_OWNER),
        "status": order.status.value,
        "items": [
            {
                "sku": line.sku,
                "name": line.name,
                "aisle": line.aisle,
                "quantity": line.quantity,
                "expiry_date": line.expiry_date.isoformat() if line.expiry_date else None,
            }
            for line in order.lines
        ],
        "reason": order.reason,
        "created_at": rfc3339(order.created_at),
        "completed_at": rfc3339(order.ended_at if order.status in FINAL_STATUSES else None),
    }


def order_end(order: OrderRecord) -> dict[str, Any]:
    """An order that reached its final status, as the head office hears of it
    (chain protocol's OrderEnd: cents and Unix seconds)."""
    return {
        "order_id": order.order_id,
        "kind": order.kind.value,
        "status": order.status.value,
        "total": order.total,
        "items": order.items,
        "ended_at": order.ended_at,
        "reason": order.reason,
        "transfer_id": order.request_key if order.kind.transfer else None,
    }


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
        "expired": level.expired,
        "available": level.available,
        "min_level": level.min_level,
        "price": format_money(level.price),
        "unit_cost": format_money(level.unit_cost),
    }


def lot_view(lot: LotLevel, name: str, aisle: str, today: date) -> dict[str, Any]:
    return {
        "lot_id": lot.lot_id,
        "sku": lot.sku,
        "name": name,
        "aisle": aisle,
        "expiry_date": lot.expiry.isoformat() if lot.expiry else None,
        "days_left": (lot.expiry - today).days if lot.expiry else None,
        "expired": lot.expired,
        "on_hand": lot.on_hand,
        "held": lot.held,
        "unit_cost": format_money(lot.unit_cost),
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


def catalog_entry(product: Product, level: StockLevel) -> dict[str, Any]:
    """A product for sale: the catalog's description with the store's price and stock."""
    return catalog_view(level) | {
        "category": product.category,
        "brand": product.brand,
        "size": product.size,
        "container_type": product.container_type,
        "box_size": product.box_size,
        "name_en": product.name_en,
        "name_he": product.name_he,
    }


def alert_view(alert: Alert) -> dict[str, Any]:
    level = alert.level
    view: dict[str, Any] = {
        "kind": alert.kind,
        "sku": level.sku,
        "name": level.name,
        "aisle": level.aisle,
        "available": level.available,
        "min_level": level.min_level,
        "raised_at": rfc3339(alert.raised_at),
    }
    if alert.lot is not None:
        view["lot_id"] = alert.lot.lot_id
        view["expiry_date"] = alert.lot.expiry.isoformat() if alert.lot.expiry else None
        view["quantity"] = alert.lot.on_hand
    return view

"""Shaping stored rows into the API's JSON objects (see API.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from autogrocery.domain.models import OrderKind, OrderStatus, rfc3339
from autogrocery.domain.money import format_money

Row = Mapping[str, Any]


def line_view(line: Row, kind: str) -> dict[str, Any]:
    unit = line["unit_price"]
    view = {
        "sku": line["sku"],
        "name": line["name"],
        "aisle": line["aisle"],
        "quantity": line["quantity"],
        ("unit_price" if kind == OrderKind.CUSTOMER else "unit_cost"): format_money(unit),
        "line_total": format_money(unit * line["quantity"]),
    }
    return view


def order_view(order: Row, lines: Iterable[Row]) -> dict[str, Any]:
    kind = order["kind"]
    latency = None
    if order["completed_at"] is not None:
        latency = round((order["completed_at"] - order["created_at"]) * 1000.0, 3)
    items = [line_view(line, kind) for line in lines]
    if kind == OrderKind.RESTOCK:
        return {
            "restock_id": order["order_id"],
            "kind": kind,
            "status": order["status"],
            "items": items,
            "total_cost": format_money(order["total"]),
            "created_at": rfc3339(order["created_at"]),
            "completed_at": rfc3339(order["completed_at"]),
            "latency_ms": latency,
        }
    view = {
        "order_id": order["order_id"],
        "kind": kind,
        "status": order["status"],
        "items": items,
        "total": format_money(order["total"]),
        "created_at": rfc3339(order["created_at"]),
        "confirmed_at": rfc3339(order["confirmed_at"]),
        "completed_at": rfc3339(order["completed_at"]),
        "latency_ms": latency,
    }
    if order["status"] == OrderStatus.PREVIEWED:
        view["expires_at"] = rfc3339(order["expires_at"])
    if order["status"] == OrderStatus.FAILED and order["reason"]:
        view["reason"] = order["reason"]
    return view


def stock_view(row: Row) -> dict[str, Any]:
    return {
        "sku": row["sku"],
        "name": row["name"],
        "aisle": row["aisle"],
        "on_hand": row["on_hand"],
        "reserved": row["reserved"],
        "available": row["on_hand"] - row["reserved"],
        "min_level": row["min_level"],
        "price": format_money(row["price"]),
        "unit_cost": format_money(row["unit_cost"]),
    }

"""Fixed store data for the dashboard's snapshot tests: the same every run, so the
screens render the same SVG every run. Written as the API's JSON, kept as its Structs
(`shapes`: the fields a panel does not show are blank)."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from autogrocery.contract.events import MetricsTick
from autogrocery.contract.ops import Alert, Robot
from autogrocery.contract.stock import InventoryItem
from autogrocery.tui.model import HISTORY, Reports, Snapshot, StoreModel
from tests.tui import shapes

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z, the wall clock of the snapshots
PRODUCTS = [
    ("BRD-001", "Sourdough loaf", "bread", 182, 4, 40, "4.20", "3.23"),
    ("BRD-002", "Wholemeal sandwich loaf", "bread", 51, 2, 64, "2.65", "1.85"),
    ("BRD-005", "French baguette", "bread", 440, 0, 90, "1.30", "1.00"),
    ("DAI-001", "Semi-skimmed milk", "dairy", 470, 6, 96, "1.25", "0.96"),
    ("DAI-004", "Mature cheddar 400 g", "dairy", 250, 1, 52, "4.10", "3.15"),
    ("DAI-008", "Mozzarella ball", "dairy", 30, 0, 44, "1.35", "0.85"),
    ("MEA-001", "Chicken breast fillets", "meat", 175, 3, 36, "9.80", "7.54"),
    ("MEA-006", "Beef sirloin steak", "meat", 149, 0, 30, "28.50", "21.92"),
    ("PAR-003", "Cola 2 l", "party", 410, 12, 84, "2.20", "1.69"),
    ("PAR-008", "Balloons", "party", 260, 0, 52, "2.10", "1.62"),
    ("PRO-001", "Bananas", "produce", 590, 8, 120, "1.15", "0.88"),
    ("PRO-009", "Blueberries", "produce", 190, 0, 40, "2.99", "2.30"),
]
ROBOTS = [
    ("bread-1", "bread", "store-1", "busy", 812, 0),
    ("bread-2", "bread", "store-1", "idle", 797, 1),
    ("dairy-1", "dairy", "store-1", "idle", 1021, 0),
    ("meat-1", "meat", "rack-b", "offline", 433, 2),
    ("meat-2", "meat", "rack-b", "busy", 690, 0),
    ("party-1", "party", "store-1", "idle", 655, 0),
    ("produce-1", "produce", "store-1", "busy", 1203, 0),
]
ORDERS = [
    ("ord_00000000000000000012", "PROCESSING", [("BRD-001", 2), ("DAI-001", 1)], "9.65", None),
    ("ord_00000000000000000011", "PREVIEWED", [("PAR-003", 6)], "13.20", None),
    ("ord_00000000000000000010", "COMPLETED", [("MEA-001", 1), ("PRO-001", 4)], "14.40", 161.2),
    ("ord_00000000000000000009", "COMPLETED", [("DAI-004", 1)], "4.10", 52.7),
    ("ord_00000000000000000008", "FAILED", [("MEA-006", 2)], "57.00", 2210.0),
    ("ord_00000000000000000007", "COMPLETED", [("BRD-005", 3), ("DAI-008", 2)], "6.60", 108.4),
    ("ord_00000000000000000006", "CANCELLED", [("PRO-009", 1)], "2.99", None),
    ("ord_00000000000000000005", "COMPLETED", [("PAR-008", 2), ("PAR-003", 1)], "6.40", 99.9),
]


LOTS = [  # sku, name, lot, expiry, days left, on hand, unit cost
    ("DAI-008", "Mozzarella ball", "lot_0007", "2025-12-31", -1, 6, "0.85"),
    ("BRD-005", "French baguette", "lot_0011", "2026-01-01", 0, 40, "1.00"),
    ("DAI-001", "Semi-skimmed milk", "lot_0009", "2026-01-02", 1, 120, "0.96"),
    ("MEA-001", "Chicken breast fillets", "lot_0012", "2026-01-03", 2, 24, "7.54"),
]
USAGE = {  # sku: units taken on each of the 7 days
    "BRD-001": [30, 28, 35, 31, 40, 38, 12],
    "BRD-002": [5, 4, 6, 3, 5, 6, 3],
    "DAI-001": [60, 64, 58, 70, 66, 61, 20],
    "PAR-003": [10, 0, 14, 9, 22, 30, 6],
    "PRO-009": [0, 0, 3, 0, 5, 0, 1],
}


def stamp(seconds_before: float) -> str:
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(NOW - seconds_before, UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snapshot() -> Snapshot:
    inventory = [
        {
            "sku": sku,
            "name": name,
            "aisle": aisle,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved,
            "min_level": min_level,
            "price": price,
            "unit_cost": cost,
        }
        for sku, name, aisle, on_hand, reserved, min_level, price, cost in PRODUCTS
    ]
    names = {p[0]: p for p in PRODUCTS}
    orders: list[dict[str, Any]] = []
    for number, (order_id, status, lines, total, latency) in enumerate(ORDERS):
        orders.append(
            {
                "order_id": order_id,
                "kind": "CUSTOMER",
                "status": status,
                "items": [
                    {"sku": sku, "name": names[sku][1], "aisle": names[sku][2], "quantity": q}
                    for sku, q in lines
                ],
                "total": total,
                "created_at": stamp(10 + 7 * number),
                "latency_ms": latency,
            }
        )
    restocks = [
        {
            "restock_id": "rst_00000000000000000001",
            "kind": "RESTOCK",
            "status": "COMPLETED",
            "items": [{"sku": "DAI-008", "quantity": 80}],
            "total_cost": "68.00",
            "created_at": stamp(45),
            "latency_ms": 412.5,
        }
    ]
    robots = [
        {
            "robot_id": robot_id,
            "aisle": aisle,
            "host": host,
            "state": state,
            "last_seen": stamp(14 if state == "offline" else 1),
            "tasks_done": done,
            "tasks_failed": failed,
        }
        for robot_id, aisle, host, state, done, failed in ROBOTS
    ]
    alerts = (
        [
            {
                "kind": "low",
                "sku": sku,
                "name": name,
                "aisle": aisle,
                "available": on_hand - reserved,
                "min_level": min_level,
                "raised_at": stamp(30 + n),
            }
            for n, (sku, name, aisle, on_hand, reserved, min_level, *_) in enumerate(PRODUCTS)
            if on_hand - reserved < min_level
        ]
        + [  # lots due within the store's alert days (the reports panel's, not the alerts')
            {
                "kind": "expiring",
                "sku": sku,
                "name": name,
                "aisle": sku[:3].lower(),
                "available": 0,
                "min_level": 0,
                "raised_at": stamp(20 + n),
                "lot_id": lot_id,
                "expiry_date": expiry,
                "quantity": on_hand,
            }
            for n, (sku, name, lot_id, expiry, _, on_hand, _) in enumerate(LOTS)
        ]
    )
    summary = {
        "completed": 5234,
        "failed": 3,
        "cancelled": 2,
        "latency_ms": {"p50": 104.2, "p95": 208.9, "p99": 331.0, "max": 2210.0},
        "per_minute": 301,
    }
    restock = {
        "completed": 41,
        "failed": 0,
        "cancelled": 0,
        "latency_ms": {"p50": 380.1, "p95": 612.0, "p99": 640.3, "max": 640.3},
        "per_minute": 2,
    }
    return Snapshot(
        [shapes.item(i) for i in inventory],
        [shapes.order(o) for o in orders],
        [shapes.restock(r) for r in restocks],
        [shapes.robot(r) for r in robots],
        [shapes.alert(a) for a in alerts],
        shapes.analytics({"customer": summary, "restock": restock}),
    )


def product(sku: str, **changes: Any) -> InventoryItem:
    """A product of the snapshot, as a `stock.changed` would carry it after `changes`."""
    found = next(i for i in snapshot().inventory if i.sku == sku)
    return msgspec.structs.replace(found, **changes)


def robot(robot_id: str, **changes: Any) -> Robot:
    """A robot of the snapshot, as a `robot.updated` would carry it after `changes`."""
    found = next(r for r in snapshot().robots if r.robot_id == robot_id)
    return msgspec.structs.replace(found, **changes)


def low_alert(sku: str, available: int) -> Alert:
    """A low-stock alert on a product of the snapshot, at `available`."""
    levels = product(sku)
    fields = {"sku": sku, "name": levels.name, "aisle": levels.aisle, "available": available}
    return shapes.alert(fields | {"min_level": levels.min_level})


def reports() -> Reports:
    """The reports panel's figures for the week to 2026-01-01."""
    expiring = [
        {
            "lot_id": lot_id,
            "sku": sku,
            "name": name,
            "aisle": sku[:3].lower(),
            "expiry_date": expiry,
            "days_left": left,
            "expired": left < 0,
            "on_hand": on_hand,
            "held": 0,
            "unit_cost": cost,
        }
        for sku, name, lot_id, expiry, left, on_hand, cost in LOTS
    ]
    days = [f"2025-12-{26 + n}" for n in range(6)] + ["2026-01-01"]
    usage = {
        "from": days[0],
        "to": days[-1],
        "skus": [
            {
                "sku": sku,
                "total": sum(taken),
                "days": [{"date": d, "quantity": q} for d, q in zip(days, taken, strict=True) if q],
            }
            for sku, taken in USAGE.items()
        ],
    }
    waste = {
        "from": days[0],
        "to": days[-1],
        "total_value": "33.15",
        "skus": [
            {"sku": "BRD-002", "quantity": 5, "value": "9.25"},
            {"sku": "DAI-008", "quantity": 12, "value": "10.20"},
            {"sku": "MEA-001", "quantity": 1, "value": "7.54"},
            {"sku": "PRO-001", "quantity": 7, "value": "6.16"},
        ],
    }
    reorder = {
        "usage_days": 7,
        "lead_time_days": 2,
        "suggestions": [
            {
                "sku": "DAI-008",
                "available": 30,
                "min_level": 44,
                "daily_usage": 0.0,
                "days_of_cover": None,
                "quantity": 14,
            },
            {
                "sku": "BRD-002",
                "available": 49,
                "min_level": 64,
                "daily_usage": 4.57,
                "days_of_cover": 10.7,
                "quantity": 34,
            },
        ],
    }
    return Reports(
        [shapes.expiring(lot) for lot in expiring],
        shapes.reorder(reorder),
        shapes.usage(usage),
        shapes.waste(waste),
        3,
    )


def model() -> StoreModel:
    """A model with the snapshot loaded and two minutes of made-up history."""
    store = StoreModel(clock=lambda: 0.0)
    store.load(snapshot())
    store.set_reports(reports())
    store.set_tick(
        msgspec.convert(
            {
                "orders": {
                    "customer": {"PREVIEWED": 1, "PROCESSING": 1, "COMPLETED": 5234, "FAILED": 3},
                    "restock": {"COMPLETED": 41},
                },
                "robots_alive": {"bread": 2, "dairy": 1, "meat": 1, "party": 1, "produce": 1},
                "loop_lag_ms": 1.8,
            },
            MetricsTick,
        )
    )
    for second in range(HISTORY):
        wave = math.sin(second / 9.0)
        for n, (sku, item) in enumerate(store.inventory.items()):
            history = store.stock_history[sku]
            history.append(item.available + int(12 * math.sin(second / (5.0 + n))))
        s = store.series
        s.per_minute.append(float(min(second, 60) * 5))
        s.completed_per_second.append(float(5 + round(2 * wave)))
        s.p50.append(100.0 + 8 * wave)
        s.p95.append(200.0 + 20 * math.sin(second / 5.0))
        s.p99.append(320.0 + 40 * math.sin(second / 3.0))
    return store

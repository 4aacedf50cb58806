"""Fixed chain data for the head office's snapshot: three stores (one down, one never
heard from), a few transfers and SKUs, the same every run and against a fixed wall
clock (tests/tui/fixed.NOW), so the Stores panel renders the same SVG every run. Written
as the head office's JSON, kept as its Structs (`msgspec.convert`)."""

from __future__ import annotations

from msgspec import convert

from autogrocery.contract.head_office import Sales, StockPage, StoreStatus, TransferList
from autogrocery.tui.chain.model import ChainModel, InFlight
from tests.tui.fixed import NOW, stamp

__all__ = ["NOW", "model"]

STORES = [  # id, status, seconds since last seen, lag, catalog version, units on hand
    ("north", "up", 1, 0, 3, 18_240),
    ("south", "down", 95, 41, 2, 9_815),
    ("harbour", "never", None, 0, 0, None),
    ("west", "up", 2, 3, 3, 12_007),
]
TRANSFERS = [
    ("trf_00000000000000000003", "north", "south", "REQUESTED", [("BRD-001", 12)], None),
    ("trf_00000000000000000002", "west", "north", "SHIPPED", [("DAI-001", 30)], None),
    ("trf_00000000000000000001", "south", "west", "REFUSED", [("MEA-006", 5)],
     "not enough free stock: MEA-006 (5 asked, 2 free)"),
]  # fmt: skip


def model() -> ChainModel:
    chain = ChainModel()
    chain.set_stores(
        [
            convert(
                {
                    "store_id": sid,
                    "status": status,
                    "last_seen": None if ago is None else stamp(ago),
                    "lag_events": lag,
                    "catalog_version": version,
                    "on_hand_units": units,
                },
                StoreStatus,
            )
            for sid, status, ago, lag, version, units in STORES
        ]
    )
    chain.set_in_flight(InFlight(2))
    chain.set_transfers(
        None,
        convert(
            {
                "transfers": [
                    {
                        "transfer_id": tid,
                        "from_store": source,
                        "to_store": target,
                        "status": status,
                        "items": [
                            {"sku": sku, "requested": q, "shipped": None, "received": None}
                            for sku, q in lines
                        ],
                        "reason": reason,
                        "discrepancy": None,
                        "requested_at": stamp(60 * n + 30),
                        "shipped_at": None,
                        "received_at": None,
                    }
                    for n, (tid, source, target, status, lines, reason) in enumerate(TRANSFERS)
                ],
                "next_cursor": None,
            },
            TransferList,
        ),
    )
    chain.set_stock_page(
        None,
        convert(
            {
                "items": [
                    {
                        "sku": "BRD-001",
                        "total_on_hand": 457,
                        "stores": [
                            {"store_id": "north", "on_hand": 182, "reserved": 4, "as_of": stamp(1)},
                            {"store_id": "west", "on_hand": 275, "reserved": 0, "as_of": stamp(2)},
                        ],
                    }
                ],
                "next_cursor": None,
            },
            StockPage,
        ),
    )
    chain.set_sales(
        (None, None),
        convert(
            {
            "from": "2025-12-26",
            "to": "2026-01-01",
            "time_zone": "UTC",
            "stores": [
                {"store_id": "harbour", "completed_orders": 0, "revenue": "0.00",
                 "waste_value": "0.00"},
                {"store_id": "north", "completed_orders": 1204, "revenue": "9412.35",
                 "waste_value": "58.20"},
            ],
            },
            Sales,
        ),
    )  # fmt: skip
    return chain

"""Timing the dashboard's inventory tab redraw with a big store's inventory in memory.

    python -m tools.inventory_panel_timing [--skus 50000] [--rounds 7]

Builds a model of `--skus` generated products (no store: what a connected dashboard
holds), opens the inventory tab headless and times `refresh_from` after a stock change,
`--rounds` times. Prints the median and the most in ms, and the rows drawn.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import msgspec

from autogrocery.contract.stock import InventoryItem
from autogrocery.tui.app import DashboardApp
from autogrocery.tui.model import Snapshot, StoreModel
from autogrocery.tui.widgets.inventory import InventoryPanel

AISLES = ("bread", "dairy", "meat", "party", "produce")


def big_model(skus: int) -> StoreModel:
    model = StoreModel()
    inventory = [
        InventoryItem(
            sku=f"{AISLES[n % 5][:3].upper()}-{n:05d}",
            name=f"Product {n}",
            aisle=AISLES[n % 5],
            on_hand=100 + n % 50,
            reserved=n % 3,
            expired=0,
            available=100 + n % 50 - n % 3,
            min_level=20 + n % 150,
            price="1.00",
            unit_cost="0.50",
        )
        for n in range(skus)
    ]
    model.load(Snapshot(inventory, [], [], [], [], None))
    return model


async def measure(skus: int, rounds: int) -> dict[str, float]:
    model = big_model(skus)
    app = DashboardApp(model=model, redraw_hz=0.1)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        panel = app.query_one("#inventory-panel", InventoryPanel)
        times = []
        item = next(iter(model.inventory.values()))
        for n in range(rounds):
            model.put_stock(msgspec.structs.replace(item, available=n))
            began = time.perf_counter()
            panel.refresh_from(model)
            times.append((time.perf_counter() - began) * 1000)
        return {
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "rows": float(panel.table.row_count),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.inventory_panel_timing")
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print(asyncio.run(measure(args.skus, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

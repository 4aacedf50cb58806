"""Fill a new store with a supermarket's catalog and years of history, fast.

    python -m tools.fill_history --data-dir DIR --catalog-size 50000 --orders 2000000 \\
        [--days 730] [--seed N]

Makes DIR a store that `autogrocery run --data-dir DIR` opens as if it had lived
`--days` days up to last midnight (UTC): the shipped catalog grown to
`--catalog-size` products (tools/history_catalog.py), `--orders` completed customer
orders with their lines, robot tasks, stock movements, lots, settlements, metrics and
latency rows, the deliveries that kept stock up, a few cancelled and expired previews,
expired and damaged goods written off (tools/history_sim.py), and the analytics CSV
the store keeps beside its database. The rows are the ones the actors write, through
the store's own schema, statements and row builders (tools/history_store.py), so the
store's ledger check holds: each SKU's and each lot's on_hand is the sum of its
movements.

It writes into DIR.filling and renames it to DIR when done, so DIR is either a whole
store or absent. An existing DIR is refused. No accounts are made: the first `run`
creates its operator and truck logins as for any new store; the orders belong to
households that have no login (an operator sees them all).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autogrocery.config import load_config
from autogrocery.domain.models import MovementType
from autogrocery.store.stock_tables import (
    INSERT_LOT,
    INSERT_MOVEMENT,
    INSERT_PRODUCT,
    RAISE_ALERT,
    RAISE_EXPIRY,
)
from tools.history_catalog import grow_catalog, with_demand
from tools.history_sim import History
from tools.history_stock import SimItem, iso, opening_item
from tools.history_store import BulkStore

CSV_NAME = "latency.csv"  # analytics.csv_path's default, beside the database
EXPIRY_ALERT_DAYS = 2  # stock.expiry_alert_days
COMMIT_DAYS = 30


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.fill_history",
        description="Fill a new store data dir with a big catalog and a long history.",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="a new data dir")
    parser.add_argument("--catalog-size", type=int, default=50_000, help="products")
    parser.add_argument("--orders", type=int, default=2_000_000, help="completed orders")
    parser.add_argument("--days", type=int, default=730, help="days of history")
    parser.add_argument("--seed", type=int, default=23, help="the same seed, the same store")
    args = parser.parse_args(argv)
    if args.catalog_size < 1 or args.orders < 0 or args.days < 1:
        parser.error("--catalog-size and --days must be positive, --orders not negative")
    return args


def fill(data_dir: Path, catalog_size: int, orders: int, days: int, seed: int) -> dict[str, float]:
    """Make the store in `data_dir` (which must not exist); what went in, and how long
    it took."""
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 (a reproducible history, not a secret)
    work = data_dir.with_name(data_dir.name + ".filling")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shipped = load_config(env={}).catalog_file
    per_day = [orders // days + (1 if d < orders % days else 0) for d in range(days)]
    lines_per_day = orders / days * 3.6
    catalog = with_demand(grow_catalog(shipped, catalog_size, rng), lines_per_day)
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=days)
    opened_at = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp()
    items = [opening_item(product, opened_at) for product in catalog.products]
    store = BulkStore(work)
    for item in items:  # the opening count, as seed_catalog writes it
        lot = item.lots[0]
        store.add(
            INSERT_MOVEMENT,
            (
                item.sku,
                MovementType.COUNT.value,
                lot.on_hand,
                "opening-stock",
                "system",
                opened_at,
                lot.lot_id,
            ),
        )
    households = max(10, round(orders / days * 2))
    with (work / CSV_NAME).open("w", encoding="utf-8", newline="") as csv_file:
        history = History(store, items, catalog.weights, first_day, rng, csv_file, households)
        for number in range(days):
            history.day(number, per_day[number])
            if (number + 1) % COMMIT_DAYS == 0:
                store.commit()
                _progress(number + 1, days, started)
    filled = time.monotonic() - started
    _final_state(store, items, history, today.toordinal(), today_start=opened_at + days * 86_400.0)
    store.finish()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    work.rename(data_dir)
    t = history.totals
    return {
        "products": len(items),
        "orders": t.orders,
        "cancelled": t.cancelled,
        "expired": t.expired,
        "restocks": t.restocks,
        "movements": t.movements + len(items),
        "wasted_units": t.wasted_units,
        "rows_seconds": round(filled, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }


def _final_state(
    store: BulkStore, items: list[SimItem], history: History, today: int, today_start: float
) -> None:
    """Products and lots as they stand, and the alerts the store would hold for them."""
    for item in items:
        p = item.product
        store.add(
            INSERT_PRODUCT,
            (
                p.sku,
                p.name,
                p.aisle,
                p.unit,
                item.on_hand,
                p.min_level,
                item.price,
                item.unit_cost,
                item.priced_at,
                p.details.to_json(),
                0,
            ),
        )
        for lot in item.all_lots():
            store.add(INSERT_LOT, lot.row())
            due = lot.expiry is not None and lot.expiry <= today + EXPIRY_ALERT_DAYS
            if due and lot.on_hand > 0:
                raised = max(lot.received_at, today_start - 86_400.0)
                store.add(RAISE_EXPIRY, (lot.lot_id, lot.sku, iso(lot.expiry), lot.on_hand, raised))
        available = item.available(today)
        if available < p.min_level:
            raised = item.low_since or today_start - 60.0
            store.add(RAISE_ALERT, (p.sku, available, p.min_level, raised))


def _progress(done: int, days: int, started: float) -> None:
    elapsed = time.monotonic() - started
    print(f"  {done}/{days} days, {elapsed:.0f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir: Path = args.data_dir
    if data_dir.exists():
        print(f"fill_history: {data_dir} exists; give a new data dir", file=sys.stderr)
        return 2
    result = fill(data_dir, args.catalog_size, args.orders, args.days, args.seed)
    print(" ".join(f"{key}={value}" for key, value in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

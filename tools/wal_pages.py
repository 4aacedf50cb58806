"""Where a store's WAL bytes go: how many commits and page images each order costs, and
which tables and indexes those pages belong to.

    python -m tools.wal_pages --orders 400 --rate 40

Runs a store in this process on a temporary data dir with its checkpoints held back
(so the WAL keeps every frame), places ORDERS orders (three lines each, robots instant)
at RATE a second, waits for them to complete, then reads the WAL file: each frame is
one page image of one commit; SQLite's dbstat names the b-tree each page belongs to.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sqlite3
import struct
import sys
import tempfile
import time
from pathlib import Path

from autogrocery.config import load_config
from autogrocery.domain.models import LineRequest
from autogrocery.service.system import System
from autogrocery.store import shared
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system

WAL_HEADER, FRAME_HEADER = 32, 24


def frames(wal: Path) -> list[tuple[int, bool]]:
    """(page number, ends a commit) of every frame in the WAL, in order."""
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    found, at = [], WAL_HEADER
    while at + FRAME_HEADER + page_size <= len(data):
        page, commit = struct.unpack(">II", data[at : at + 8])
        found.append((page, commit > 0))
        at += FRAME_HEADER + page_size
    return found


async def run(orders: int, rate: float, overrides: list[str]) -> None:
    shared.Checkpointer._checkpoint = staticmethod(lambda conn, mode: None)  # type: ignore[method-assign,assignment]
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            env={},
            overrides=[
                f"store.data_dir={tmp}",
                "robots.pick_time=0",
                "log.level=WARNING",
                *overrides,
            ],
        )
        system = await start_system(config)
        try:
            await _orders(system, Path(tmp), orders, rate)
        finally:
            await system.stop()


async def _orders(system: System, data: Path, orders: int, rate: float) -> None:
    db = data / DB_NAME
    wal = db.with_name(DB_NAME + "-wal")
    await asyncio.sleep(0.5)
    before = len(frames(wal))
    skus = [level.sku for level in await system.levels() if level.available >= 100]

    async def place(n: int) -> str:
        basket = [LineRequest(skus[(n * 3 + k) % len(skus)], 1) for k in range(3)]
        preview = await system.preview(f"fridge-{n % 8}", basket)
        await system.confirm(preview.order_id, f"fridge-{n % 8}")
        return preview.order_id

    placing = []
    started = time.monotonic()
    for n in range(orders):  # an open loop: on time, whatever the store does
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        placing.append(asyncio.create_task(place(n)))
    ids = await asyncio.gather(*placing)
    for order_id in ids:
        await _completed(system, order_id)
    await asyncio.sleep(0.5)
    written = frames(wal)[before:]
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        owner = dict(conn.execute("SELECT pageno, name FROM dbstat"))
    commits = sum(commit for _, commit in written)
    by_table = collections.Counter(owner.get(page, "(free)") for page, _ in written)
    per_order = len(written) / orders
    kib = per_order * (page_size + FRAME_HEADER) / 1024
    print(
        f"{orders} orders at {rate:g}/s: {commits / orders:.1f} commits and {per_order:.1f} "
        f"pages an order = {kib:.1f} KiB of WAL"
    )
    for name, count in by_table.most_common(20):
        print(f"  {count / orders:6.2f} pages/order  {name}")


async def _completed(system: System, order_id: str) -> None:
    for _ in range(600):
        if (await system.get_order(order_id)).status == "COMPLETED":
            return
        await asyncio.sleep(0.05)
    raise SystemExit(f"order {order_id} did not complete")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("-o", dest="overrides", action="append", default=[], help="a setting")
    args = parser.parse_args()
    asyncio.run(run(args.orders, args.rate, args.overrides))
    return 0


if __name__ == "__main__":
    sys.exit(main())

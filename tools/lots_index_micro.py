"""What an index on the lots costs each lot update, and what it saves the start's read of
the lots stock keeps: three designs on one shape (950,000 lots of 50,000 SKUs, the last
50,000 with stock), in turn, five rounds. Not a test; run it to compare:

    python -m tools.lots_index_micro [--dir DIR]

- none: no index for the start (a scan);
- live: `lots_live` as migration 15 made it (partial, covering, on `on_hand > 0`);
- spent: a partial index on a flag set once, when a dated lot empties (the update the
  hot path makes does not touch it).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

SKUS, LOTS = 50_000, 950_000
DESIGNS = ("none", "live", "spent")
START_READS = {
    "none": "SELECT lot_id, sku, on_hand FROM lots WHERE on_hand > 0 OR expiry_date IS NULL",
    "live": "SELECT sku, on_hand FROM lots INDEXED BY lots_live "
    "WHERE on_hand > 0 OR expiry_date IS NULL",
    "spent": "SELECT lot_id, sku, on_hand FROM lots INDEXED BY lots_unspent WHERE spent = 0",
}


def build(path: Path, design: str) -> tuple[sqlite3.Connection, list[str]]:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE lots (lot_id TEXT PRIMARY KEY, sku TEXT NOT NULL, expiry_date TEXT, "
        "mfd_date TEXT, unit_cost INTEGER NOT NULL, on_hand INTEGER NOT NULL, "
        "received_at REAL NOT NULL, ref TEXT, spent INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX lots_by_sku ON lots (sku)")
    rnd = random.Random(1)  # noqa: S311 (the same lots every run, not secrets)
    rows = []
    for n in range(LOTS):
        sku = f"SKU{n % SKUS:05d}"
        live = n >= LOTS - SKUS
        on_hand = rnd.randint(50, 500) if live else 0
        lot = f"rst{n:07d}/{sku}/2026-01-01"
        rows.append((lot, sku, "2026-01-01", None, 100, on_hand, 1.0, None, 0 if live else 1))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO lots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    if design == "live":
        conn.execute(
            "CREATE INDEX lots_live ON lots (sku, expiry_date, mfd_date, unit_cost, on_hand, "
            "received_at) WHERE on_hand > 0 OR expiry_date IS NULL"
        )
    elif design == "spent":
        conn.execute("CREATE INDEX lots_unspent ON lots (sku) WHERE spent = 0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return conn, [row[0] for row in rows[-SKUS:]]


def updates(conn: sqlite3.Connection, lots: list[str], batches: int = 300, per: int = 30) -> float:
    """Median µs per lot update, in transactions of `per` updates as a settle makes."""
    rnd = random.Random(2)  # noqa: S311 (the same picks every run)
    each = []
    for _ in range(batches):
        picked = rnd.sample(lots, per)
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "UPDATE lots SET on_hand = on_hand - 1, unit_cost = ? WHERE lot_id = ?",
            [(100, lot) for lot in picked],
        )
        conn.execute("COMMIT")
        each.append((time.perf_counter() - started) / per * 1e6)
    return statistics.median(each)


def start_read(conn: sqlite3.Connection, design: str) -> float:
    started = time.perf_counter()
    conn.execute(START_READS[design]).fetchall()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    given = parser.parse_args()
    built = {d: build(given.dir / f"lots-micro-{d}.db", d) for d in DESIGNS}
    costs: dict[str, list[float]] = {d: [] for d in DESIGNS}
    reads: dict[str, list[float]] = {d: [] for d in DESIGNS}
    for _ in range(5):
        for design, (conn, lots) in built.items():
            costs[design].append(updates(conn, lots))
            reads[design].append(start_read(conn, design))
    for design in DESIGNS:
        print(
            f"{design:6s} a lot's update {statistics.median(costs[design]):.1f} µs, "
            f"the start's read {statistics.median(reads[design]):.0f} ms"
        )


if __name__ == "__main__":
    main()

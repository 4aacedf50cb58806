"""What a start reads of a store with years of history comes from indexes, not from
every row the years left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autogrocery.domain.catalog import load_catalog
from autogrocery.store.db import open_store
from autogrocery.store.stock_tables import LIVE_LOTS
from tests.conftest import ConfigFactory


def test_the_lots_kept_at_start_are_read_from_their_index(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    path = open_store(tmp_path / "d", load_catalog(make_config().catalog_file))
    with sqlite3.connect(path) as conn:
        conn.executemany(  # emptied dated lots, as deliveries and sales leave them
            "INSERT INTO lots (lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand, "
            "received_at) VALUES (?, 'BRD-001', '2026-01-01', NULL, 100, 0, 0.0)",
            [(f"old-{n}",) for n in range(500)],
        )
        conn.execute(
            "INSERT INTO lots (lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand, "
            "received_at) VALUES ('live', 'BRD-001', '2026-02-01', NULL, 100, 7, 0.0)"
        )
        conn.execute("ANALYZE")
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {LIVE_LOTS}"))
        kept = {row[0] for row in conn.execute(LIVE_LOTS)}
    assert "COVERING INDEX lots_live" in plan
    assert "live" in kept
    assert not any(lot.startswith("old-") for lot in kept)

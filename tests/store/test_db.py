"""The SQLite file: migrations by user_version, WAL, seeding once."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from autogrocery.domain.catalog import load_catalog
from autogrocery.store.db import DB_NAME, open_store
from autogrocery.store.schema import MIGRATIONS
from tests.conftest import ConfigFactory


def test_open_store_migrates_seeds_once_and_uses_wal(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    products = load_catalog(make_config().catalog_file)
    path = open_store(tmp_path / "d", products)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE products SET on_hand = on_hand - 1 WHERE sku = ?", (products[0].sku,))
    open_store(tmp_path / "d", products)  # a second start changes nothing
    with sqlite3.connect(tmp_path / "d" / DB_NAME) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == len(products)
        assert (
            conn.execute(
                "SELECT on_hand FROM products WHERE sku = ?", (products[0].sku,)
            ).fetchone()[0]
            == products[0].stock - 1
        )
        opening = conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
        assert opening == len(products)


def test_a_new_database_clears_litestreams_record_of_the_one_that_is_gone(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    """Litestream's tips: a database made anew needs its -litestream dir removed."""
    products = load_catalog(make_config().catalog_file)
    stale = tmp_path / "d" / f".{DB_NAME}-litestream" / "ltx" / "0"
    stale.mkdir(parents=True)
    open_store(tmp_path / "d", products)
    assert not stale.parent.parent.exists()
    kept = tmp_path / "d" / f".{DB_NAME}-litestream"
    kept.mkdir()
    open_store(tmp_path / "d", products)  # the database is there: its record stays
    assert kept.exists()


def test_an_edited_catalog_file_describes_its_products_at_the_next_start(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    """Each start compares the file's details with the store's only when the file
    changed since the last start (a digest); an edit still shows at the next start."""
    products = load_catalog(make_config().catalog_file)
    open_store(tmp_path / "d", products)
    open_store(tmp_path / "d", products)  # the first compare: nothing differs
    first = products[0]
    edited = [replace(first, brand="Acme"), *products[1:]]
    open_store(tmp_path / "d", edited)
    assert _details(tmp_path, first.sku)["brand"] == "Acme"
    with sqlite3.connect(tmp_path / "d" / DB_NAME) as conn:  # a head office's version
        conn.execute(
            "UPDATE products SET details = ?, details_version = 3 WHERE sku = ?",
            (replace(first.details, brand="Central").to_json(), first.sku),
        )
    open_store(tmp_path / "d", products)  # the file changed back: its version stands
    assert _details(tmp_path, first.sku)["brand"] == "Central"
    second = products[1]
    open_store(tmp_path / "d", products)  # unchanged since: nothing compared or changed
    renamed = [*products[:1], replace(second, size="2 kg")]
    open_store(tmp_path / "d", renamed + products[2:])
    assert _details(tmp_path, second.sku)["size"] == "2 kg"
    open_store(tmp_path / "d", products)
    assert _details(tmp_path, second.sku)["size"] == second.details.size


def _details(tmp_path: Path, sku: str) -> dict[str, object]:
    with sqlite3.connect(tmp_path / "d" / DB_NAME) as conn:
        text = conn.execute("SELECT details FROM products WHERE sku = ?", (sku,)).fetchone()[0]
    details: dict[str, object] = json.loads(text)
    return details

"""Group commit: batches committed at the same moment share one transaction, and each
keeps its own outcome. Real threads, a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.domain.catalog import load_catalog
from autogrocery.store.chain_tables import INSERT_FACTS, ChainTables, facts_row
from autogrocery.store.db import open_store
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert
from tests.conftest import ConfigFactory

ITEM = Insert("items", ("id", "writer"))


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[SharedConnection]:
    path = tmp_path / "items.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, writer TEXT NOT NULL)")
    db = SharedConnection(path, "NORMAL", commit_window=0.02)
    yield db
    db.shutdown()


def write_together(db: SharedConnection, batches: dict[str, list[int]]) -> dict[str, object]:
    """Each batch from its own thread, all released at once; what each one got."""
    start = threading.Barrier(len(batches))
    outcome: dict[str, object] = {}

    def writer(name: str, ids: list[int]) -> None:
        start.wait(timeout=5)
        try:
            db.write_batch({ITEM: [(i, name) for i in ids]})
            outcome[name] = "ok"
        except sqlite3.Error as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=writer, args=item) for item in batches.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a writer never got its answer"
    return outcome


def test_batches_of_one_moment_share_a_transaction(shared: SharedConnection) -> None:
    outcome = write_together(shared, {f"w{n}": [n * 10, n * 10 + 1] for n in range(8)})
    assert set(outcome.values()) == {"ok"}
    rows = shared.execute("SELECT COUNT(*) FROM items").fetchall()
    assert rows[0][0] == 16
    group = shared.group_commit
    assert group.batches == 8
    assert group.groups < 8, "eight batches of one moment took eight transactions"


def test_a_batch_that_breaks_a_constraint_fails_alone(shared: SharedConnection) -> None:
    shared.write_batch({ITEM: [(1, "first")]})
    outcome = write_together(shared, {"a": [10, 11], "dup": [12, 1], "b": [13]})
    assert outcome["a"] == "ok"
    assert outcome["b"] == "ok"
    assert isinstance(outcome["dup"], sqlite3.IntegrityError)
    ids = [row[0] for row in shared.execute("SELECT id FROM items ORDER BY id").fetchall()]
    assert ids == [1, 10, 11, 13], "the broken batch left nothing, the others all"


def test_a_new_store_takes_the_page_size_an_old_one_keeps_its_own(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    products = load_catalog(make_config().catalog_file)
    path = open_store(tmp_path / "d", products, page_size=1024)
    open_store(tmp_path / "d", products, page_size=8192)  # made already: stays
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 1024
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == len(products)


def test_the_relay_saves_its_link_while_an_actor_leads_a_group(tmp_path: Path) -> None:
    """The relay's save_link held the connection's lock while its batch waited for the
    leader, who needed that lock to commit: both waited for good."""
    path = open_store(tmp_path / "d", [])
    db = SharedConnection(path, "NORMAL", commit_window=0.2)
    # Daemon threads: if they deadlock, the test fails instead of hanging the run.
    leader = threading.Thread(
        target=db.write_batch, args=({INSERT_FACTS: [facts_row("sale", {})]},), daemon=True
    )
    leader.start()  # leads: waits 0.2 s for others
    relay = threading.Thread(target=ChainTables(db).save_link, args=(1, 5, 3, None), daemon=True)
    relay.start()
    leader.join(timeout=5)
    relay.join(timeout=5)
    # No shutdown when deadlocked: it would wait for the same lock.
    assert not leader.is_alive(), "the two commits deadlocked"
    assert not relay.is_alive(), "the two commits deadlocked"
    try:
        assert ChainTables(db).link()[:3] == (1, 5, 3)
    finally:
        db.shutdown()

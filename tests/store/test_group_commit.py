"""Group commit: batches committed at the same moment share one transaction, and each
keeps its own outcome. Real threads, a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.domain.catalog import load_catalog
from autogrocery.store.chain_tables import INSERT_FACTS, ChainTables, facts_row
from autogrocery.store.db import open_store
from autogrocery.store.group_commit import GroupCommit, Writes
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert
from tests.conftest import ConfigFactory

ITEM = Insert("items", ("id", "writer"))
NO_TABLE = Insert("no_such_table", ("id",))


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[SharedConnection]:
    db = items_store(tmp_path, window=0.02)
    yield db
    db.shutdown()


@pytest.fixture
def patient(tmp_path: Path) -> Iterator[SharedConnection]:
    """A leader that waits long enough for every thread of a test to join its group,
    however slow the machine."""
    db = items_store(tmp_path, window=0.5)
    yield db
    db.shutdown()


def items_store(tmp_path: Path, window: float) -> SharedConnection:
    path = tmp_path / "items.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, writer TEXT NOT NULL)")
        conn.execute("CREATE TABLE write_probe (filler BLOB)")
    return SharedConnection(path, "NORMAL", commit_window=window)


def write_together(db: SharedConnection, batches: dict[str, list[int]]) -> dict[str, object]:
    """Each batch from its own thread, all released at once; what each one got."""
    return write_each(db, {name: {ITEM: [(i, name) for i in ids]} for name, ids in batches.items()})


def write_each(db: SharedConnection, batches: dict[str, Writes]) -> dict[str, object]:
    start = threading.Barrier(len(batches))
    outcome: dict[str, object] = {}

    def writer(name: str, writes: Writes) -> None:
        start.wait(timeout=5)
        try:
            db.write_batch(writes)
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


def test_a_batch_that_breaks_a_constraint_fails_alone(patient: SharedConnection) -> None:
    patient.write_batch({ITEM: [(1, "first")]})
    groups = patient.group_commit.groups
    outcome = write_together(patient, {"a": [10, 11], "dup": [12, 1], "b": [13]})
    assert patient.group_commit.groups == groups + 1, "the three were not one group"
    assert outcome["a"] == "ok"
    assert outcome["b"] == "ok"
    assert isinstance(outcome["dup"], sqlite3.IntegrityError)
    ids = [row[0] for row in patient.execute("SELECT id FROM items ORDER BY id").fetchall()]
    assert ids == [1, 10, 11, 13], "the broken batch left nothing, the others all"


def test_a_statement_sqlite_refuses_fails_its_own_batch_only(patient: SharedConnection) -> None:
    """An OperationalError is not always shared (a full disk is; a missing table is
    one batch's): it failed every batch of the group."""
    groups = patient.group_commit.groups
    outcome = write_each(
        patient,
        {"a": {ITEM: [(1, "a")]}, "bad": {NO_TABLE: [(1,)]}, "b": {ITEM: [(2, "b")]}},
    )
    assert patient.group_commit.groups == groups + 1, "the three were not one group"
    assert outcome["a"] == "ok"
    assert outcome["b"] == "ok"
    assert isinstance(outcome["bad"], sqlite3.OperationalError)
    ids = [row[0] for row in patient.execute("SELECT id FROM items ORDER BY id").fetchall()]
    assert ids == [1, 2]


def test_a_leader_commits_one_group_then_hands_the_lead_on() -> None:
    """Batches that come while a group commits are committed by one of their own
    threads: the leader, its own batch done, does not go on committing others' (a
    steady stream of them held an actor's answers for up to 0.9 s)."""
    committed_by: dict[str, str] = {}
    first_group_commits = threading.Event()
    release = threading.Event()

    def commit(batches: list[Writes]) -> None:
        names = [str(batch["name"]) for batch in batches]  # type: ignore[index]
        if names == ["A"]:
            first_group_commits.set()
            assert release.wait(5)
        for name in names:
            committed_by[name] = threading.current_thread().name

    group = GroupCommit(commit)

    def write(name: str) -> None:
        group.write({"name": name})  # type: ignore[dict-item]

    a = threading.Thread(target=write, args=("A",), name="A", daemon=True)
    a.start()
    assert first_group_commits.wait(5)
    b = threading.Thread(target=write, args=("B",), name="B", daemon=True)
    b.start()
    deadline = time.monotonic() + 5
    while not group._queue:  # B waits behind A's group
        assert time.monotonic() < deadline, "B never queued"
        time.sleep(0.001)
    release.set()
    a.join(5)
    b.join(5)
    assert not a.is_alive()
    assert not b.is_alive()
    assert committed_by == {"A": "A", "B": "B"}


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
    db = SharedConnection(path, "NORMAL", commit_window=1.0)
    # Daemon threads: if they deadlock, the test fails instead of hanging the run.
    leader = threading.Thread(
        target=db.write_batch, args=({INSERT_FACTS: [facts_row("sale", {})]},), daemon=True
    )
    leader.start()  # leads: waits 1 s for others, time enough for the relay to come
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

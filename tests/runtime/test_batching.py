"""Smart batching and group commit: what an actor does with a batch of messages.

A `Tally` actor keeps counts in memory and writes them through a real SQLite file.
While it is held busy, messages queue; when it is free it takes them as one batch.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from autogrocery.domain.errors import Conflict, Unavailable
from autogrocery.runtime.base import BATCH_STATS, RETRY_MAX, Actor, handles
from autogrocery.runtime.bridge import AsyncBridge
from autogrocery.runtime.replies import Batch, call
from autogrocery.runtime.scheduler import Scheduler
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(60)

INSERT = Insert("tally", ("name", "n"))
TOTAL = Insert("totals", ("batch", "items"))


class Tally(Actor):
    """Adds named counts; "boom" fails after changing memory; "hold" waits for a gate."""

    name = "tally"

    def __init__(self, writer: Any, gate: threading.Event, schedule: Any = None) -> None:
        super().__init__()
        self.writer = writer
        self.schedule = schedule
        self.gate = gate
        self.counts: dict[str, int] = {}
        self.seen: list[str] = []
        self.batch_items = 0

    @handles(str)
    def add(self, name: str) -> int:
        if name == "hold":
            self.gate.wait(10)
            return 0
        if name == "refuse":
            raise Conflict("refused")
        before = self.counts.get(name)
        self.counts[name] = (before or 0) + 1

        def restore() -> None:
            if before is None:
                del self.counts[name]
            else:
                self.counts[name] = before

        self.unit.undo(restore)
        self.seen.append(name)
        self.unit.undo(self.seen.pop)
        if name == "boom":
            raise RuntimeError("a bug, after changing memory")
        self.unit.write(INSERT, (name, self.counts[name]))
        self.batch_items += 1
        return self.counts[name]

    @handles(int)
    def snapshot(self, _: int) -> dict[str, int]:
        return dict(self.counts)

    def before_commit(self) -> None:
        if self.batch_items:
            self.unit.write(TOTAL, (self.stats.batches, self.batch_items))

    def after_batch(self) -> None:
        self.batch_items = 0


@pytest.fixture
def db(tmp_path: Path) -> Any:
    path = tmp_path / "tally.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE tally (name TEXT, n INTEGER)")
        conn.execute("CREATE TABLE totals (batch INTEGER, items INTEGER)")
    shared = SharedConnection(path, "NORMAL")
    yield shared
    shared.shutdown()


def rows(db: SharedConnection) -> list[tuple[str, int]]:
    return [tuple(r) for r in db.execute("SELECT name, n FROM tally ORDER BY rowid").fetchall()]


async def test_a_batch_where_one_item_fails_answers_each_caller_and_keeps_the_rest(
    db: SharedConnection,
) -> None:
    gate = threading.Event()
    ref = Tally.start(db, gate)
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=10)
    try:
        held = bridge.send(ref, "hold")
        await asyncio.sleep(0.05)  # the actor is inside "hold": what follows queues
        names = ["a", "boom", "b", "refuse", "a", "c"]
        futures = [bridge.send(ref, name) for name in names]
        await asyncio.sleep(0.05)
        batches_before = BATCH_STATS["tally"].batches
        gate.set()
        await held
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert results[0] == 1
        assert isinstance(results[1], RuntimeError)
        assert results[2] == 1
        assert isinstance(results[3], Conflict)
        assert results[4:] == [2, 1]
        assert BATCH_STATS["tally"].batches == batches_before + 1, "one batch took all six"
        assert await bridge.send(ref, 0) == {"a": 2, "b": 1, "c": 1}  # boom was undone
        assert rows(db) == [("a", 1), ("b", 1), ("a", 2), ("c", 1)]
        totals = db.execute("SELECT items FROM totals").fetchall()
        assert [t[0] for t in totals] == [4], "one commit for the batch"
    finally:
        ref.stop(timeout=5)
        bridge.close()


async def test_answers_come_in_the_order_the_messages_were_sent(db: SharedConnection) -> None:
    gate = threading.Event()
    gate.set()
    ref = Tally.start(db, gate)
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=10)
    try:
        settled: list[int] = []
        futures = []
        for n in range(300):
            future = bridge.send(ref, "x")
            future.add_done_callback(lambda _, n=n: settled.append(n))
            futures.append(future)
            if n % 7 == 0:
                await asyncio.sleep(0)  # let some go while others are still being sent
        results = await asyncio.gather(*futures)
        assert results == list(range(1, 301)), "handled in the order sent"
        assert settled == list(range(300)), "answered in the order sent"
        assert [n for _, n in rows(db)] == list(range(1, 301))
    finally:
        ref.stop(timeout=5)
        bridge.close()


async def test_a_lone_request_is_a_batch_of_one_answered_without_waiting_for_a_timer(
    db: SharedConnection,
) -> None:
    gate = threading.Event()
    gate.set()
    ref = Tally.start(db, gate)
    # A sweep interval and timeout far longer than the bound below: nothing time-based
    # can be what answers.
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=60)
    try:
        for _ in range(5):
            before = (BATCH_STATS["tally"].batches, BATCH_STATS["tally"].items)
            assert await asyncio.wait_for(bridge.send(ref, "solo"), 0.5)
            after = (BATCH_STATS["tally"].batches, BATCH_STATS["tally"].items)
            assert after == (before[0] + 1, before[1] + 1)
            await asyncio.sleep(0.01)
    finally:
        ref.stop(timeout=5)
        bridge.close()


class FullDisk:
    """A writer whose disk is full until `freed` is set."""

    def __init__(self, db: SharedConnection) -> None:
        self.db = db
        self.freed = threading.Event()
        self.refused = 0

    def write_batch(self, writes: Any) -> None:
        if not self.freed.is_set():
            self.refused += 1
            raise sqlite3.OperationalError("database or disk is full")
        self.db.write_batch(writes)


async def test_a_failed_commit_undoes_the_batch_answers_503_and_retries_what_was_told(
    db: SharedConnection,
) -> None:
    scheduler = Scheduler()
    scheduler.start()
    gate = threading.Event()
    gate.set()
    disk = FullDisk(db)
    ref = Tally.start(disk, gate, scheduler.call_later)
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=10)
    try:
        with pytest.raises(Unavailable) as refused:
            await bridge.send(ref, "asked")
        assert refused.value.retry_after > 0
        ref.tell(Batch(["told", "told"]))  # internal messages: nobody to answer, kept
        await eventually(lambda: _true(disk.refused >= 3), within=10)
        assert call(ref, 0, 5) == {}, "nothing half-applied in memory"
        assert rows(db) == []
        disk.freed.set()
        await eventually(lambda: _true(bool(rows(db))), within=10)
        assert rows(db) == [("told", 1), ("told", 2)]
        assert call(ref, 0, 5) == {"told": 2}
    finally:
        ref.stop(timeout=5)
        scheduler.stop()
        bridge.close()


async def test_a_disk_full_for_thousands_of_batches_is_still_answered_503(
    db: SharedConnection,
) -> None:
    gate = threading.Event()
    gate.set()

    class LongFull(Tally):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self._failures = 5000  # batches failed in a row: minutes of a full disk

    ref = LongFull.start(FullDisk(db), gate)
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=10)
    try:
        with pytest.raises(Unavailable) as refused:
            await bridge.send(ref, "asked")
        assert refused.value.retry_after == RETRY_MAX
        assert ref.is_alive()  # an expected condition, never an actor death
    finally:
        ref.stop(timeout=5)
        bridge.close()


class Relay(Tally):
    """Writes, then hands its caller's answer to another actor (as stock hands a
    preview to ordering): that actor would answer after the commit."""

    @handles(float)
    def relay(self, amount: float) -> None:
        self.unit.write(INSERT, ("relayed", int(amount)))
        self.forward("elsewhere", amount)


async def test_a_caller_handed_to_a_peer_is_answered_503_when_the_commit_fails(
    db: SharedConnection,
) -> None:
    gate = threading.Event()
    gate.set()
    ref = Relay.start(FullDisk(db), gate)
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=10)
    try:
        async with asyncio.timeout(5):  # answered at once, not at the bridge's 10 s
            with pytest.raises(Unavailable) as refused:
                await bridge.send(ref, 2.0)
        assert "cannot save" in str(refused.value)
        assert rows(db) == []
    finally:
        ref.stop(timeout=5)
        bridge.close()


async def _true(value: bool) -> bool:
    return value

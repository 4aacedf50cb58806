"""An actor made of parts: each part's `@handles` methods take the actor's messages,
in the actor's batches, through its unit of work (one commit, one undo log)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from autogrocery.domain.errors import Conflict
from autogrocery.runtime.base import BATCH_STATS, Actor, Host, handles
from autogrocery.runtime.bridge import AsyncBridge
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Insert

pytestmark = pytest.mark.timeout(60)

INSERT = Insert("notes", ("text",))


class Notes:
    """A part: keeps notes in memory and in the store; refuses a "no"."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.kept: list[str] = []

    @handles(str)
    def note(self, text: str) -> int:
        self.kept.append(text)
        self.host.unit.undo(self.kept.pop)
        if text == "no":
            raise Conflict("refused")
        self.host.unit.write(INSERT, (text,))
        return len(self.kept)


class Notebook(Actor):
    name = "notebook"
    parts: ClassVar[dict[str, type]] = {"notes": Notes}

    def __init__(self, writer: Any, gate: threading.Event) -> None:
        super().__init__()
        self.writer = writer
        self.gate = gate
        self.notes = Notes(self)

    @handles(int)
    def hold_then_count(self, _: int) -> int:
        self.gate.wait(10)
        return len(self.notes.kept)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    shared = SharedConnection(path, "NORMAL")
    yield shared
    shared.shutdown()


async def test_a_parts_handlers_take_the_actors_messages_in_its_batches(
    db: SharedConnection,
) -> None:
    gate = threading.Event()
    ref = Notebook.start(db, gate)
    bridge = AsyncBridge(asyncio.get_running_loop(), timeout=10)
    try:
        held = bridge.send(ref, 0)
        await asyncio.sleep(0.05)  # the actor is held: what follows queues
        futures = [bridge.send(ref, text) for text in ["milk", "no", "eggs"]]
        await asyncio.sleep(0.05)
        batches_before = BATCH_STATS["notebook"].batches
        gate.set()
        assert await held == 0
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert [results[0], results[2]] == [1, 2], "the refused note was undone"
        assert isinstance(results[1], Conflict)
        assert BATCH_STATS["notebook"].batches == batches_before + 1, "one batch took all"
        assert await bridge.send(ref, 0) == 2
        stored = [row[0] for row in db.execute("SELECT text FROM notes ORDER BY rowid")]
        assert stored == ["milk", "eggs"]
    finally:
        ref.stop(timeout=5)
        bridge.close()


def test_one_message_type_handled_by_two_owners_is_refused_when_the_actor_is_made() -> None:
    with pytest.raises(TypeError, match="two handlers of <class 'str'>"):

        class Twice(Actor):
            parts: ClassVar[dict[str, type]] = {"notes": Notes}

            @handles(str)
            def also(self, text: str) -> str:
                return text

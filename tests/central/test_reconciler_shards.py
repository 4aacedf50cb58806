"""The reconciler's bookkeeping of each shard's sources, against a stand-in for the
hub's JetStream API (stream info and updates) and the leaves' answers: the cases that
are hard to bring about with real servers at the right moment."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable

import nats.js.errors
from nats.js.api import (
    ExternalStream,
    StreamConfig,
    StreamInfo,
    StreamSource,
    StreamSourceInfo,
    StreamState,
)

from autogrocery.central.reconciler import Reconciler
from autogrocery.chain.protocol import api_prefix, deliver_prefix, intake_stream


def src(store: str, epoch: int) -> StreamSource:
    return StreamSource(
        name=f"UP_{store}_{epoch}",
        external=ExternalStream(api=api_prefix(store), deliver=deliver_prefix(store)),
    )


class FakeJS:
    def __init__(self, streams: dict[str, list[StreamSource]]) -> None:
        self.streams = streams
        self.updates: list[tuple[str, list[str]]] = []

    async def stream_info(self, name: str) -> StreamInfo:
        if name not in self.streams:
            raise nats.js.errors.NotFoundError
        sources = self.streams[name]
        return StreamInfo(
            config=StreamConfig(name=name, sources=copy.deepcopy(sources)),
            state=StreamState(messages=0, bytes=0, first_seq=0, last_seq=0, consumer_count=1),
            sources=[
                StreamSourceInfo(name=s.name, active=1_000_000) for s in sources
            ],  # 1 ms: healthy
        )

    async def update_stream(self, config: StreamConfig) -> None:
        self.streams[config.name] = list(config.sources or [])
        self.updates.append((config.name, [s.name for s in config.sources or []]))


def reconciler(
    js: FakeJS,
    placement: dict[str, int],
    leaves: dict[str, dict[str, int]],
    seen: Callable[[list[tuple[str, str, int]]], Awaitable[None]],
    shards: tuple[int, ...] = (),
) -> Reconciler:
    async def place() -> dict[str, int]:
        return placement

    r = Reconciler(None, js, place, seen, 2.0, intake_shards=lambda: shards)  # type: ignore[arg-type]

    async def up(store: str) -> dict[str, int] | None:
        return leaves.get(store)

    r._up_streams = up  # type: ignore[method-assign]
    return r


async def test_a_relinked_stores_restart_survives_a_failed_leaf_seen_write() -> None:
    """A leaf linked again: its source must be removed and added again (restarted). If the
    leaf_seen write of that pass fails (SQLite busy, a PostgreSQL restart), the pass
    still restarts it (the relink was forgotten before the write, and no later pass
    restarted it)."""
    js = FakeJS({"CHAIN_IN": [src("a", 1)]})
    fail = [True]

    async def seen(rows: list[tuple[str, str, int]]) -> None:
        if fail[0]:
            fail[0] = False
            raise RuntimeError("database is locked")

    r = reconciler(js, {"a": 0}, {"a": {"UP_a_1": 5}}, seen)
    r.relinked("a")
    await r.once()  # the write fails: the pass goes on
    restarted = [names for _, names in js.updates if "UP_a_1" not in names]
    assert restarted, "UP_a_1 was never removed and added again after its leaf relinked"


async def test_a_shard_with_no_placed_store_keeps_foreign_sources() -> None:
    """CHAIN_IN sources b's stream (left from an earlier life of the read model), b is
    placed on shard 1 and no store on shard 0: CHAIN_IN must stop sourcing it (its events
    went through two intake streams, two appliers)."""
    js = FakeJS({"CHAIN_IN": [src("b", 1)], "CHAIN_IN_1": []})

    async def seen(rows: list[tuple[str, str, int]]) -> None:
        pass

    r = reconciler(js, {"b": 1}, {"b": {"UP_b_1": 5}}, seen, shards=(0, 1))
    await r.once()
    assert js.streams[intake_stream(1)][0].name == "UP_b_1"
    assert [s.name for s in js.streams["CHAIN_IN"]] == [], "CHAIN_IN still sources b"


async def test_control_a_relinked_store_is_restarted_when_the_write_works() -> None:
    js = FakeJS({"CHAIN_IN": [src("a", 1)]})

    async def seen(rows: list[tuple[str, str, int]]) -> None:
        pass

    r = reconciler(js, {"a": 0}, {"a": {"UP_a_1": 5}}, seen)
    r.relinked("a")
    await r.once()
    assert [names for _, names in js.updates] == [[], ["UP_a_1"]]

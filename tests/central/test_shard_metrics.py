"""A shard's gauges while its applier is stuck on a batch (its database down): the
messages waiting and how far behind it is grow, instead of keeping the last good
batch's values (an alert on them would never fire). The applier is driven with
messages shaped as nats-py's (subject, data, headers, metadata)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from dataclasses import dataclass

import msgspec

from autogrocery.central.intake import Applier
from autogrocery.central.readmodel import Outcome
from autogrocery.chain.protocol import Facts, Level, UpEvent


@dataclass
class Sequence:
    consumer: int


@dataclass
class Meta:
    timestamp: datetime.datetime
    num_pending: int
    sequence: Sequence


class FakeMsg:
    def __init__(self, seq: int, stamped: float, pending: int) -> None:
        self.subject = "chain.up.north.stock"
        ev = UpEvent("north", seq, "stock", stamped, Facts(levels=[Level("A", 1, 0)]))
        self.data = msgspec.json.encode(ev)
        self.headers = {"Nats-Stream-Source": f"UP_north_1 {seq}"}
        stamp = datetime.datetime.fromtimestamp(stamped, datetime.UTC)
        self.metadata = Meta(stamp, pending, Sequence(consumer=seq))  # handed out in order

    async def ack(self) -> None: ...

    async def in_progress(self) -> None: ...


async def test_behind_seconds_grows_while_the_applier_is_stuck() -> None:
    ok = [True]

    async def apply(batch: object) -> Outcome:
        if ok[0]:
            return Outcome()
        raise RuntimeError("the database is down")

    async def stores() -> frozenset[str]:
        return frozenset({"north"})

    applier = Applier(0, None, apply, stores, batch=10, ack_wait=30)  # type: ignore[arg-type]
    await applier.take([FakeMsg(1, time.time(), 0)])
    assert applier.state().behind < 1
    ok[0] = False  # the database goes away; 500 events wait behind this batch
    stuck = asyncio.create_task(applier.take([FakeMsg(2, time.time(), 500)]))
    await asyncio.sleep(3)
    state = applier.state()
    stuck.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stuck
    assert state.pending >= 500, state
    assert state.behind >= 2, state

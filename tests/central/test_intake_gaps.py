"""A batch is acknowledged once, by its last message (AckPolicy.ALL), which settles every
message handed out before it. So messages handed out and lost on the way (a link that
broke, a hub restarted under a connection that came back) must not be followed by an
acknowledgement: the applier sees the gap in the consumer's delivery sequence and
makes the consumer again from its floor. A real nats-server; the lost link is a second
connection that pulls two messages and goes away without acknowledging them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import nats
import pytest
from nats.js.api import StorageType, StreamConfig, StreamSource

from autogrocery.central.intake import Applier
from autogrocery.central.readmodel import Arrival, Outcome
from autogrocery.chain.natsd import find_binary
from autogrocery.chain.protocol import (
    INTAKE_CONSUMER,
    Facts,
    Level,
    UpEvent,
    intake_stream,
    up_stream,
    up_subjects,
)
from autogrocery.ports import free_port
from tests.waiting import eventually


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(find_binary()), "-js", "-sd", str(tmp_path), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def publish(js: nats.js.JetStreamContext, seq: int) -> None:
    event = UpEvent("north", seq, "stock", time.time(), Facts(levels=[Level("A", seq, 0)]))
    await js.publish("chain.up.north.stock", msgspec.json.encode(event))


async def connect(server: str) -> nats.NATS:
    deadline = time.monotonic() + 10
    while True:  # the server is starting
        try:
            return await nats.connect(server, allow_reconnect=False, connect_timeout=1)
        except (OSError, nats.errors.Error):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_messages_lost_on_the_way_are_not_settled_by_the_next_batch(server: str) -> None:
    nc = await connect(server)
    js = nc.jetstream()
    stream = intake_stream(0)
    up = up_stream("north", 1)  # the store's stream, sourced into the intake as on the hub
    await js.add_stream(StreamConfig(name=up, subjects=[up_subjects("north")]))
    await js.add_stream(
        StreamConfig(name=stream, sources=[StreamSource(name=up)], storage=StorageType.FILE)
    )
    applied: list[int] = []
    first = asyncio.Event()

    async def apply(arrivals: list[Arrival]) -> Outcome:
        applied.extend(a.event.seq for a in arrivals if a.event is not None)
        if len(applied) == 1:
            await first.wait()  # the first batch is being applied while the link breaks
        return Outcome(applied=len(arrivals))

    async def stores() -> frozenset[str]:
        return frozenset({"north"})

    applier = Applier(0, js, apply, stores, batch=10, ack_wait=30.0)
    running = asyncio.create_task(applier.run())
    try:
        await publish(js, 1)
        await eventually(lambda: len(applied) == 1, within=10, every=0.02)
        await asyncio.sleep(1.5)  # the applier's pull requests have expired
        for seq in (2, 3, 4):
            await publish(js, seq)
        await eventually(lambda: _sourced(js, stream, 4), within=10, every=0.05)
        lost = await connect(server)  # handed 2 and 3, then gone without a word
        inbox = lost.new_inbox()
        sub = await lost.subscribe(inbox)
        await lost.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{INTAKE_CONSUMER}",
            json.dumps({"batch": 2}).encode(),
            reply=inbox,
        )
        taken = [await sub.next_msg(5), await sub.next_msg(5)]
        assert len(taken) == 2
        await lost.close()
        first.set()
        await eventually(lambda: sorted(set(applied)) == [1, 2, 3, 4], within=15, every=0.05)

        async def settled() -> bool:  # once applied, all of them
            info = await js.consumer_info(stream, INTAKE_CONSUMER)
            return info.ack_floor is not None and info.ack_floor.stream_seq == 4

        await eventually(settled, within=10, every=0.1)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await nc.close()


async def _sourced(js: nats.js.JetStreamContext, stream: str, count: int) -> bool:
    return (await js.stream_info(stream)).state.messages == count

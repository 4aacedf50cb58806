"""The sender's looks do not wait for a store that takes its messages slowly: another
store's new transfer goes at once. Its JetStream publish is a stand-in here (a store's
leaf that answers each message after 1.5 s); the real path, leaves and all, is in
test_transfers.py and test_catalog.py."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from nats.js.api import PubAck

from autogrocery.central.readmodel import Down
from autogrocery.central.sender import Sender
from autogrocery.chain.protocol import down_stream, store_domain
from tests.waiting import eventually

SLOW = 1.5  # seconds the slow store's leaf takes to answer each message


class Leaves:
    """Answers for the stores' leaves: `slow` takes its time."""

    async def publish(self, subject: str, payload: bytes, **_: Any) -> PubAck:
        store = subject.split(".")[2]
        if store == "slow":
            await asyncio.sleep(SLOW)
        return PubAck(stream=down_stream(store), seq=1, domain=store_domain(store))


async def test_a_slow_store_holds_back_only_itself() -> None:
    owed: list[Down] = [Down("slow", "catalog", n, b"{}") for n in (1, 2, 3)]
    delivered: dict[tuple[str, object], float] = {}

    async def due() -> list[Down]:
        return [d for d in owed if (d.store_id, d.key) not in delivered]

    async def settle(down: Down) -> None:
        delivered[(down.store_id, down.key)] = time.monotonic()

    sender = Sender(Leaves(), due, settle)  # type: ignore[arg-type]
    running = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(0.2)  # the slow store's first message is on its way
        asked = time.monotonic()
        owed.append(Down("fast", "ship", "t-1", b"{}"))
        sender.wake.set()  # what a new transfer does
        await eventually(lambda: ("fast", "t-1") in delivered, within=10, every=0.01)
        assert delivered[("fast", "t-1")] - asked < SLOW  # not after the slow one's sends
        await eventually(lambda: len(delivered) == 4, within=15, every=0.05)
        assert [delivered[("slow", n)] for n in (1, 2, 3)] == sorted(
            delivered[("slow", n)] for n in (1, 2, 3)
        )  # the slow store's own, in order
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

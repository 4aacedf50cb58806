"""The event bus, the scheduler and the asyncio bridge."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from autogrocery.actors.base import Actor, handles
from autogrocery.actors.bridge import AsyncBridge
from autogrocery.actors.eventbus import EventBus
from autogrocery.actors.scheduler import Scheduler
from autogrocery.domain.errors import Conflict, Unavailable


async def test_events_reach_subscribers_from_other_threads_and_slow_ones_drop_oldest() -> None:
    bus = EventBus()
    loop = asyncio.get_running_loop()
    small = bus.subscribe(loop, maxsize=3)
    only_alerts = bus.subscribe(loop, types=["alert.raised"])
    worker = threading.Thread(
        target=lambda: [bus.publish("stock.changed", {"n": n}) for n in range(5)]
    )
    worker.start()
    worker.join()
    bus.publish("alert.raised", {"sku": "X"})
    await asyncio.sleep(0)  # let the loop run the thread-safe callbacks
    got = [(await anext(small)).data for _ in range(3)]
    assert got == [{"n": 3}, {"n": 4}, {"sku": "X"}]
    assert small.dropped == 3
    assert (await anext(only_alerts)).data == {"sku": "X"}
    small.close()
    with pytest.raises(StopAsyncIteration):
        await anext(small)


def test_scheduler_runs_calls_in_time_order_and_stops() -> None:
    scheduler = Scheduler()
    scheduler.start()
    seen: list[str] = []
    done = threading.Event()
    scheduler.call_later(0.03, lambda: (seen.append("late"), done.set()))
    scheduler.call_later(0.01, lambda: seen.append("early"))
    assert done.wait(2)
    scheduler.stop()
    assert seen == ["early", "late"]
    scheduler.call_later(0, lambda: seen.append("after stop"))
    time.sleep(0.02)
    assert seen == ["early", "late"]


class Echo(Actor):
    name = "echo"

    @handles(str)
    def echo(self, text: str) -> str:
        if text == "conflict":
            raise Conflict("no")
        if text == "slow":
            time.sleep(0.5)
        return text.upper()


async def test_bridge_answers_errors_and_times_out_without_blocking_the_loop() -> None:
    ref = Echo.start()
    try:
        bridge = AsyncBridge(asyncio.get_running_loop(), timeout=0.2)
        assert await bridge.ask(ref, "hi") == "HI"
        with pytest.raises(Conflict):
            await bridge.ask(ref, "conflict")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        counting = asyncio.create_task(ticker())
        with pytest.raises(Unavailable):
            await bridge.ask(ref, "slow")
        counting.cancel()
        assert ticks >= 5, "the loop kept running while the actor was busy"
    finally:
        ref.stop(timeout=5)
    with pytest.raises(Unavailable):
        await bridge.ask(ref, "hi")

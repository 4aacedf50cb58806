"""The event bus, the scheduler and the asyncio bridge."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

import pytest

from autogrocery.domain.errors import Conflict, Unavailable
from autogrocery.runtime.base import Actor, handles
from autogrocery.runtime.bridge import AsyncBridge
from autogrocery.runtime.context import Peers
from autogrocery.runtime.eventbus import EventBus
from autogrocery.runtime.replies import call
from autogrocery.runtime.scheduler import Scheduler


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
    got = [await small.receive() for _ in range(4)]
    # Six events, room for three: the first three are lost, and a notice says so in
    # their place, so the numbering stays gapless.
    assert [(seq, event.type, event.data) for seq, event in got] == [
        (3, "events.dropped", {"count": 3, "from_seq": 1}),
        (4, "stock.changed", {"n": 3}),
        (5, "stock.changed", {"n": 4}),
        (6, "alert.raised", {"sku": "X"}),
    ]
    assert small.dropped == 3
    assert await only_alerts.receive() == (1, got[-1][1])
    bus.publish("stock.changed", {"n": 5})
    await asyncio.sleep(0)
    assert [(seq, event.data) for seq, event in [await small.receive()]] == [(7, {"n": 5})]
    small.close()
    with pytest.raises(StopAsyncIteration):
        await anext(small)


async def test_a_later_loss_is_reported_from_where_it_starts() -> None:
    bus = EventBus()
    small = bus.subscribe(asyncio.get_running_loop(), maxsize=2)
    for burst in (range(3), range(3, 7)):
        for n in burst:
            bus.publish("stock.changed", {"n": n})
        await asyncio.sleep(0)
        seen = [await small.receive() for _ in range(3)]
        notice = seen[0][1]
        assert notice.type == "events.dropped"
        assert [event.data for _, event in seen[1:]] == [{"n": burst[-2]}, {"n": burst[-1]}]
        assert [seq for seq, _ in seen[1:]] == [burst[-2] + 1, burst[-1] + 1]
        assert notice.data["from_seq"] + notice.data["count"] == seen[1][0]
    assert small.dropped == 1 + 2


@dataclass(frozen=True)
class Seen:
    """A robot's state as the fleet reports it (only what the bus keys on, and a count)."""

    robot_id: str
    state: str
    n: int


async def test_robot_updates_are_coalesced_per_robot_and_the_last_state_wins() -> None:
    bus = EventBus()
    sub = bus.subscribe(asyncio.get_running_loop())
    started = time.monotonic()
    for n in range(50):  # a robot flipping busy/idle, from an actor thread's view
        bus.publish("robot.updated", Seen("r1", "busy", n))
        bus.publish("robot.updated", Seen("r2", "busy", n))
    bus.publish("robot.updated", Seen("r1", "idle", 50))
    first = [await asyncio.wait_for(sub.receive(), 2) for _ in range(2)]
    assert [(e.data.robot_id, e.data.n) for _, e in first] == [("r1", 0), ("r2", 0)]
    later = [await asyncio.wait_for(sub.receive(), 2) for _ in range(2)]
    waited = time.monotonic() - started
    assert {e.data.robot_id: (e.data.state, e.data.n) for _, e in later} == {
        "r1": ("idle", 50),
        "r2": ("busy", 49),
    }
    assert waited >= 0.2  # held to the end of the robot's 250 ms window
    with pytest.raises(TimeoutError):  # and nothing else: 102 changes, 4 events
        await asyncio.wait_for(sub.receive(), 0.4)
    other = bus.subscribe(asyncio.get_running_loop(), types=["stock.changed"])
    bus.publish("stock.changed", {"sku": "X"})  # other types are never held
    bus.publish("stock.changed", {"sku": "X"})
    assert [(await other.receive())[1].data for _ in range(2)] == [{"sku": "X"}] * 2
    bus.close_all()


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


class Relay(Actor):
    """Passes each text on to "ordering", as fulfilment tells ordering a pick is done."""

    name = "relay"

    def __init__(self, peers: Peers) -> None:
        super().__init__()
        self.peers = peers

    @handles(str)
    def relay(self, text: str) -> None:
        self.unit.tell("ordering", text)


@pytest.mark.parametrize("stopping", [False, True])
def test_a_message_to_a_stopped_peer_warns_unless_the_store_is_stopping(
    caplog: pytest.LogCaptureFixture, stopping: bool
) -> None:
    peers = Peers()
    peers.refs["ordering"] = Echo.start()
    relay = Relay.start(peers)
    try:
        peers.refs["ordering"].stop(timeout=5)  # ordering stops first at a store's stop
        if stopping:
            peers.stopping.set()
        with caplog.at_level(logging.INFO, logger="autogrocery.runtime.base"):
            call(relay, "picked", 5)
    finally:
        relay.stop(timeout=5)
    [record] = [r for r in caplog.records if "ordering" in r.getMessage()]
    if stopping:  # a clean stop logs no warning: the next start recovers the order
        assert record.levelname == "INFO"
        assert "not sent: the store is stopping" in record.getMessage()
    else:  # a peer that died while the store runs is worth a warning
        assert record.levelname == "WARNING"
        assert "dropped: not running" in record.getMessage()

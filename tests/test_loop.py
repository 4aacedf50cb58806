"""Stopping background tasks for sure: a task that loses a cancellation (as one awaiting
nats-py's `fetch` does about one time in twenty on Python 3.11) still ends."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout

from autogrocery.chain.natsd import NatsServer, find_binary
from autogrocery.loop import cancel_all

pytestmark = pytest.mark.timeout(60)


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again() -> None:
    lost = 0

    async def stubborn() -> None:
        nonlocal lost
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if lost == 0:  # what asyncio.wait_for does when its result came at once
                    lost += 1
                    continue
                raise

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_all([task]), 3)
    assert task.cancelled()
    assert lost == 1


async def test_a_task_that_never_ends_is_named_and_left_after_the_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def deaf() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(deaf(), name="deaf")
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_all([task], within=0.5), 3)
    assert not task.done()
    assert "tasks still running 0.5s after they were cancelled: deaf" in caplog.text
    task.get_coro().close()  # type: ignore[union-attr]


async def test_a_loop_on_a_real_jetstream_fetch_always_ends(tmp_path: Path) -> None:
    config = "\n".join(
        [
            "listen: 127.0.0.1:-1",
            "http: 127.0.0.1:-1",
            f'ports_file_dir: "{tmp_path}"',
            f'jetstream {{ store_dir: "{tmp_path / "js"}" }}',
        ]
    )
    server = NatsServer("js", tmp_path, config, find_binary())
    loop = asyncio.get_running_loop()
    ports = await loop.run_in_executor(None, server.start)
    nc = await nats.connect(ports.client)
    try:
        js = nc.jetstream()
        await js.add_stream(name="S", subjects=["s.>"])
        sub = await js.pull_subscribe("s.>", durable="d", stream="S")

        async def down() -> None:  # the relay's down loop, with a short fetch timeout
            while True:
                try:
                    await sub.fetch(16, timeout=0.02)
                except (NatsTimeout, TimeoutError):
                    continue

        for _ in range(200):  # cancelled at random moments, some as a fetch times out
            task = asyncio.create_task(down())
            await asyncio.sleep(random.uniform(0, 0.03))
            await asyncio.wait_for(cancel_all([task]), 5)
            assert task.done()
    finally:
        await nc.close()
        await loop.run_in_executor(None, server.stop)

"""A store killed -9 while a webhook's delivery is in flight sends it after its restart,
with the same delivery id, and only that."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.server import call, operator, start_server, stop_quietly
from tests.waiting import eventually
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.timeout(90)


async def test_a_delivery_in_flight_at_a_kill_9_is_sent_after_the_restart(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "store"
    receiver = await Receiver().start()
    receiver.scripts["bot"] = ["hang"]  # the first attempt never gets an answer
    server = await asyncio.to_thread(start_server, data_dir)
    try:
        async with aiohttp.ClientSession() as session:
            ops = await operator(session, server)
            body = {"url": receiver.url("bot"), "events": ["alert.raised"]}
            made = await call(session, server, "POST", "/api/ops/webhooks", json=body, headers=ops)
            receiver.secrets["bot"] = made["secret"]
            change = {"min_level": 100_000}
            await call(
                session, server, "PATCH", "/api/ops/products/DAI-001", json=change, headers=ops
            )
            (first,) = await receiver.wait("bot", 1, within=20)
            server.process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(server.process.wait, 10)
            stop_quietly(server)

            server = await asyncio.to_thread(start_server, data_dir)
            again = (await receiver.wait("bot", 2, within=20))[1]
            assert again.verified
            assert (
                again.headers["X-Autogrocery-Delivery"] == first.headers["X-Autogrocery-Delivery"]
            )
            assert again.body == first.body
            ops = await operator(session, server)
            path = f"/api/ops/webhooks/{made['webhook_id']}/deliveries"

            async def delivered() -> dict[str, Any] | None:
                found = await call(session, server, "GET", path, headers=ops)
                (delivery,) = found["deliveries"]
                return dict(delivery) if delivery["status"] == "delivered" else None

            delivery = await eventually(delivered, within=10)
            assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)
            assert len(receiver.at("bot")) == 2  # nothing else was sent
    finally:
        stop_quietly(server)
        await receiver.stop()

"""A store killed -9 while its SMTP relay refuses a mail sends that mail after its
restart, once; and the next alert's mail comes after it, also once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.server import Server, call, operator, start_server, stop_quietly
from tests.smtp_server import smtp_server
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)
MANAGER = "manager@example.com"


async def low(session: aiohttp.ClientSession, server: Server, sku: str) -> None:
    ops = await operator(session, server)
    path = f"/api/ops/products/{sku}"
    await call(session, server, "PATCH", path, json={"min_level": 100_000}, headers=ops)


async def test_a_mail_queued_at_a_kill_9_is_sent_once_after_the_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    async with smtp_server(refuse=10**6) as (inbox, port):
        relay = (
            "notify.smtp_host=127.0.0.1",
            f"notify.smtp_port={port}",
            "notify.smtp_tls=none",
            "notify.smtp_from=store@example.com",
        )
        server = await asyncio.to_thread(start_server, data_dir, *relay)
        try:
            async with aiohttp.ClientSession() as session:
                ops = await operator(session, server)
                prefs = {"email": MANAGER, "events": ["low_stock"]}
                path = "/api/ops/notifications/preferences"
                await call(session, server, "PUT", path, json=prefs, headers=ops)
                await low(session, server, "DAI-001")
                await eventually(lambda: inbox.refused >= 1, within=20)  # queued, and tried
                server.process.send_signal(signal.SIGKILL)
                await asyncio.to_thread(server.process.wait, 10)
                stop_quietly(server)

                inbox.refuse = 0  # the relay takes mail again
                server = await asyncio.to_thread(start_server, data_dir, *relay)
                (first,) = await eventually(lambda: inbox.to(MANAGER), within=20)
                assert "(DAI-001)" in first["Subject"]
                await low(session, server, "BRD-001")
                await eventually(lambda: len(inbox.to(MANAGER)) >= 2, within=20)
                subjects = [mail["Subject"] for mail in inbox.to(MANAGER)]
                assert ["DAI-001" in s for s in subjects] == [True, False], subjects
        finally:
            stop_quietly(server)

"""Issue 21's slow-reader drill: an operator's event WebSocket whose client stops
reading (a 4 KiB receive buffer, nothing read after the upgrade) while devices order,
until the store has had to drop events for it: its buffers are full. SIGTERM must still
stop the store within its budget (it used to wait for that client for minutes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.server import ADMIN_PASSWORD, start_server, stop_quietly
from tests.e2e.stalled import deep_catalog, metric, order_until, stalled_websocket, token_of

pytestmark = pytest.mark.timeout(150)

STOP_BUDGET = 10.0  # seconds from SIGTERM to exit, whatever clients do (docs/operating.md)


async def test_sigterm_stops_the_store_in_time_with_a_client_that_stopped_reading(
    tmp_path: Path,
) -> None:
    catalog = deep_catalog(tmp_path)
    # A short queue, so that the buffers fill after hundreds of orders, not thousands.
    server = start_server(tmp_path / "store", f"catalog.path={catalog}", "api.event_buffer=200")
    stalled = None
    try:
        async with aiohttp.ClientSession() as http:
            token = await token_of(http, server.url, "admin", ADMIN_PASSWORD)
            loop = asyncio.get_running_loop()
            stalled = await loop.run_in_executor(None, stalled_websocket, server.url, token)

            async def full() -> bool:  # it dropped events: nothing more fits anywhere
                return await metric(http, server.url, "autogrocery_events_dropped_total") > 0

            await order_until(http, server.url, full, within=90)
        took = server.stop(within=STOP_BUDGET)
        assert server.process.returncode == 0
        assert took < STOP_BUDGET
    finally:
        if stalled is not None:
            stalled.close()
        stop_quietly(server)

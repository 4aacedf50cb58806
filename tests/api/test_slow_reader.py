"""A WebSocket client that really falls behind: it stops reading while the store works
through real orders, until the store says (on /metrics) that it dropped some. Its
socket buffers are small (as a phone's on a bad network), so the server's sends wait
and its queue for that connection (api.event_buffer) overflows. When the client reads
again it is told how many events it lost, with the numbering gapless; GET /api/orders
then gives it the state back."""

from __future__ import annotations

import asyncio
import itertools
import socket
from pathlib import Path
from urllib.parse import quote

import pytest

from autogrocery.api.state import STATE
from tests.api.conftest import Api, ApiFactory
from tests.api.test_live import next_event
from tests.e2e.stalled import deep_catalog, stalled_websocket
from tests.helpers import line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)
SMALL = 4096  # bytes of kernel buffer each way
METRIC = "autogrocery_events_dropped_total "
WRITE_BOUND = 16 * 1024  # bytes an event stream may hold in the server's write buffer


async def test_a_reader_that_falls_behind_is_told_what_it_lost(make_api: ApiFactory) -> None:
    api: Api = await make_api("api.event_buffer=16")
    operator = await api.operator()
    async with api.client.ws_connect("/api/events", headers=operator) as ws:
        client_end = ws._response.connection.transport.get_extra_info("socket")  # type: ignore[union-attr]
        client_end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL)
        server = api.client.server.runner.server
        assert server is not None
        for connection in server.connections:  # the server's end of each, this one's too
            server_end = server._connections[connection].get_extra_info("socket")
            server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL)
        skus = [level.sku for level in await api.system.levels() if level.on_hand >= 40][:40]

        async def dropped() -> float:
            status, text, _ = await api.call("GET", "/metrics")
            assert status == 200
            line = next(x for x in text.decode().splitlines() if x.startswith(METRIC))
            return float(line.split()[-1])

        first = await next_event(ws, within=10.0, contract=api.contract)
        made: list[str] = []  # and it reads nothing meanwhile: the slowest reader there is
        deadline = asyncio.get_running_loop().time() + 60
        while await dropped() == 0:  # however large this machine's buffers are
            assert asyncio.get_running_loop().time() < deadline, "the reader never fell behind"
            for n in range(100):
                preview = await api.system.preview(
                    "fridge-1", [line(skus[(len(made) + n) % len(skus)], 1)]
                )
                await api.system.confirm(preview.order_id, "fridge-1")
                made.append(preview.order_id)
        frames = [first]
        deadline = asyncio.get_running_loop().time() + 60
        while not any(f["type"] == "events.dropped" for f in frames[:-5]):
            assert asyncio.get_running_loop().time() < deadline, "never told of a loss"
            frames.append(await next_event(ws, within=10.0, contract=api.contract))

    # Told in place of each loss how many and from which seq; nothing else missing: the
    # notice takes the seq of the last event lost, and counting goes on from there.
    assert frames[0]["seq"] == 1
    for before, frame in itertools.pairwise(frames):
        if frame["type"] == "events.dropped":
            lost = frame["data"]
            assert lost["count"] > 0
            assert lost["from_seq"] == before["seq"] + 1
            assert frame["seq"] == lost["from_seq"] + lost["count"] - 1
        else:
            assert frame["seq"] == before["seq"] + 1
    # ... and the documented GET gives the state back, page by page (as many orders as
    # it took this machine to fall behind: more than one page on a slow one).
    await wait_final(api.system, made)
    final: dict[str, str] = {}
    page: str | None = "/api/orders?limit=500"
    while page is not None:
        status, listed, _ = await api.call("GET", page, operator)
        assert status == 200
        final |= {o["order_id"]: o["status"] for o in listed["orders"]}
        after = listed["next_cursor"]
        page = None if after is None else f"/api/orders?limit=500&cursor={quote(after)}"
    assert {final.get(order_id) for order_id in made} == {"COMPLETED"}


async def test_a_reader_that_stopped_costs_the_store_a_bounded_number_of_bytes(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    """Issue 21: each of 1,000 stalled operators used to hold up to 10,000 events, a
    quarter MiB of frames in the server's buffer and 4 MiB of kernel buffer. Now: its
    queue in bytes, WRITE_HIGH and a bit in the server, SO_SNDBUF in the kernel."""
    budget = 64 * 1024
    api: Api = await make_api(
        f"catalog.path={deep_catalog(tmp_path)}",
        "api.event_buffer=100000",  # the bound in events is not what stops it here
        f"api.event_buffer_bytes={budget}",
    )
    operator = await api.operator()
    url = str(api.client.make_url("")).rstrip("/")
    loop = asyncio.get_running_loop()
    stalled = await loop.run_in_executor(
        None, stalled_websocket, url, operator["Authorization"].split()[1]
    )
    try:
        server = api.client.server.runner.server
        assert server is not None
        (transport,) = (  # the server's end of the stalled stream
            t
            for t in (server._connections[c] for c in server.connections)
            if t.get_extra_info("peername")[1] == stalled.getsockname()[1]
        )
        bus = api.system.events
        skus = [level.sku for level in await api.system.levels()]
        deadline = loop.time() + 60
        # Until it has had to drop events (it is full), or its buffer has grown past what
        # it may hold (the old way), whichever comes first.
        while bus.dropped == 0 and transport.get_write_buffer_size() <= WRITE_BOUND:
            assert loop.time() < deadline, "the reader never fell behind"
            for n in itertools.islice(itertools.count(), 50):
                preview = await api.system.preview("fridge-1", [line(skus[n], 1)])
                await api.system.confirm(preview.order_id, "fridge-1")
        assert transport.get_write_buffer_size() <= WRITE_BOUND
        sock = transport.get_extra_info("socket")
        kernel = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        assert kernel <= 2 * api.config.api.event_send_buffer  # Linux doubles what is set
        (subscription,) = bus._everything
        assert 0 < subscription.queued_bytes <= budget
    finally:
        stalled.close()
    state = api.client.server.app[STATE]

    async def gone() -> bool:  # the client went: its stream, queue and buffers go too
        return not state.websockets and not bus._everything

    await eventually(gone, within=10, what="the stalled client's stream, queue and buffers gone")

"""A hub whose process lives but answers nothing (wedged, or stopped) is restarted by
the head office, as a hub that exited is, and the chain links again: a store enrolled
afterwards has its stream sourced."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from tests.central.conftest import Central
from tests.waiting import eventually


@pytest.fixture
def read_model() -> str:
    """On SQLite only: this is the hub's process and its restart (two 5 s JetStream
    timeouts), which do not touch the read model; tests/central's others run on both."""
    return ""


async def test_a_hub_that_stops_answering_is_restarted_and_stores_link_again(
    central: Central,
) -> None:
    await central.leaf("north")
    hub = central.service.hub
    assert hub is not None
    assert hub.server is not None
    server, stuck = hub.server, hub.server.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)  # alive, and silent: as the wedged hub of issue 19
    try:
        # Two JetStream API timeouts of 5 s each, then a restart: well within 40 s.
        await eventually(
            lambda: server.pid not in (None, stuck) and server.healthy(), within=40, every=0.1
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stuck, signal.SIGCONT)
    await central.leaf("south")

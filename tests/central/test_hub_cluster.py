"""The hub as a 3-node cluster (`central.hub_nodes = 3`): the intake streams keep three
replicas, a store's join file names every node, and killing the node that carries a
store's leaf link (-9) loses nothing and stops nothing: the leaf links to another
node, its source resumes, every event is applied once, and the node is started again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Any

import pytest

from autogrocery.central import hub_cluster
from autogrocery.central.hub import reload_and_wait
from autogrocery.central.hub_cluster import HubCluster
from autogrocery.central.hubconf import store_user
from autogrocery.central.service import StartupError
from autogrocery.chain.natsd import NatsError, NatsServer, quote
from autogrocery.chain.protocol import Facts, OrderEnd, api_prefix, store_account
from tests.central.conftest import Central, CentralFactory
from tests.waiting import eventually


@pytest.fixture
def read_model() -> str:
    """On SQLite only: this is the hub's processes, which do not touch the read model."""
    return ""


def sale(n: int) -> Facts:
    return Facts(orders=[OrderEnd(f"ord-{n}", "CUSTOMER", "COMPLETED", 100, 1, time.time())])


async def applied(central: Central, count: int) -> bool:
    return (await central.stats("north"))["events_applied"] == count


def intake(server: NatsServer) -> dict[str, Any]:
    """CHAIN_IN as a node reports it (config and cluster)."""
    jsz = server.monitor("/jsz?accounts=true&streams=true&config=true") or {}
    for account in jsz.get("account_details") or []:  # type: ignore[union-attr]
        for stream in account.get("stream_detail") or []:
            if stream["name"] == "CHAIN_IN":
                return dict(stream)
    return {}


def carrying(hub: HubCluster, store: str) -> NatsServer | None:
    """The node that holds the store's leaf link."""
    links = {server_id for server_id, _ in hub.leaf_links(store)}
    for server in hub.servers:
        varz = server.monitor("/varz") or {}
        if varz.get("server_id") in links:
            return server
    return None


async def test_a_node_lost_loses_nothing_and_stops_nothing(make_central: CentralFactory) -> None:
    central = await make_central("central.hub_nodes=3")
    hub = central.service.hub
    assert isinstance(hub, HubCluster)
    assert len(hub.servers) == 3
    assert len(central.service.hub_urls) == 3  # every node's leaf listener, in join files
    north = await central.leaf("north")
    for n in range(3):
        await north.publish(sale(n))
    await eventually(lambda: applied(central, 3), within=30, every=0.1)
    stream = await asyncio.to_thread(intake, hub.servers[0])
    assert stream["config"]["num_replicas"] == 3

    node = await asyncio.to_thread(carrying, hub, "north")
    assert node is not None
    assert node.pid is not None
    os.kill(node.pid, signal.SIGKILL)
    for n in range(3, 8):  # the store goes on; its leaf keeps them until it links again
        await north.publish(sale(n))
    await eventually(lambda: applied(central, 8), within=60, every=0.1)
    stats = await central.stats("north")
    assert (stats["events_applied"], stats["last_seq"]) == (8, 8)
    _, sales = await central.call("GET", "/api/chain/sales")
    assert sales["stores"][0]["completed_orders"] == 8  # each once

    async def restarted() -> bool:
        return node.restarts == 1 and await asyncio.to_thread(node.healthy)

    await eventually(restarted, within=60, every=0.2)
    status, ready = await central.call("GET", "/readyz", auth=False)
    assert status == 200, ready
    assert ready["hub_nodes"] == {"hub-0": "ok", "hub-1": "ok", "hub-2": "ok"}


async def test_a_new_stores_account_reaches_every_node_before_its_user(
    make_central: CentralFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nodes reload one after another; a node drops what another tells it about an
    account it does not know yet, and never hears it again. So a new store's account
    goes to every node first, bare (no user to link as, nothing exported), and only then
    its user, exports and the head office's imports: its leaf links and is sourced. A
    reload that fails half-way (a slow node) starts again from the bare accounts."""
    central = await make_central("central.hub_nodes=3")
    steps: list[tuple[str, str]] = []

    def recording(server: NatsServer, config: str, timeout: float) -> None:
        bare = f"{quote(store_account('west'))} {{ }}" in config
        whole = api_prefix("west") in config and store_user("west") in config
        steps.append((server.name, "bare" if bare else "whole" if whole else "absent"))
        if steps.count(("hub-1", "whole")) == 1 and steps[-1] == ("hub-1", "whole"):
            raise NatsError("hub-1 did not reload its config within 10s")  # once
        reload_and_wait(server, config, timeout)

    monkeypatch.setattr(hub_cluster, "reload_and_wait", recording)
    west = await central.leaf("west")
    await west.publish(sale(1))
    await eventually(lambda: applied_to(central, "west", 1), within=30, every=0.1)
    nodes = ["hub-0", "hub-1", "hub-2"]
    failed = [(n, "bare") for n in nodes] + [("hub-0", "whole"), ("hub-1", "whole")]
    assert steps == [*failed, *[(n, "bare") for n in nodes], *[(n, "whole") for n in nodes]]


async def applied_to(central: Central, store: str, count: int) -> bool:
    return (await central.stats(store))["events_applied"] == count


async def test_a_cluster_of_two_is_refused_in_one_line(make_central: CentralFactory) -> None:
    with pytest.raises(StartupError, match=r"central.hub_nodes is 2; it must be 1, 3 or 5"):
        await make_central("central.hub_nodes=2")


async def test_a_wedged_node_is_restarted_at_the_second_look(make_central: CentralFactory) -> None:
    """A node whose process lives but answers nothing (here: stopped) is left alone at
    the first look (it may be catching up after a restart) and killed at the second,
    then started again; the other nodes are never touched."""
    central = await make_central("central.hub_nodes=3")
    hub = central.service.hub
    assert isinstance(hub, HubCluster)
    node, others = hub.servers[1], [hub.servers[0].pid, hub.servers[2].pid]
    stuck = node.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)
    try:
        await asyncio.to_thread(hub.restart_unanswering)
        assert node.pid == stuck
        await asyncio.to_thread(hub.restart_unanswering)

        async def back() -> bool:
            return node.restarts == 1 and await asyncio.to_thread(node.healthy)

        await eventually(back, within=60, every=0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stuck, signal.SIGCONT)
    assert node.pid != stuck
    assert [hub.servers[0].pid, hub.servers[2].pid] == others

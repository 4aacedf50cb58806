"""The chain simulation (`tools/chain_sim.py`), small: virtual stores on two real leaf
servers that carry several stores each, through the real hub into a real head office
in two shards. The hub (or one node of a 3-node hub cluster) is killed (-9) during the
steady phase and the head office itself later, then a backlog waits while the head
office is down: every event published still ends in the read model once. This is the
drill BENCHMARKS.md runs at 1,000 stores, run here at a size CI affords."""

from __future__ import annotations

import argparse

import pytest

from tools.chain_sim import simulate


@pytest.mark.parametrize("hub_nodes", [1, 3])
async def test_every_event_once_through_a_killed_hub_and_head_office(hub_nodes: int) -> None:
    args = argparse.Namespace(
        stores=6,
        leaves=2,
        shards=2,
        batch=256,
        rate=5.0,
        duration=6.0,
        backlog=2000,
        skus=100,
        ack_wait=2.0,  # the batch the killed head office held comes again after this
        hub_nodes=hub_nodes,  # 3: a node of the hub cluster is the one killed
        sqlite=True,
        drill=True,
    )
    report = await simulate(args)
    check = report["check"]
    assert check["stores_wrong"] == []
    assert check["published"] > 6 + 6 * 5 * 5 + 2000  # the first, the steady, the backlog
    assert check["events_rows"] == check["published"]
    assert check["every_event_once"] is True
    assert report["drilled"]["office_killed_and_restarted"] is True
    assert report["catch_up"]["events"] == 2000

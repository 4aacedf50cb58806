"""The head office's intake in shards: each store is placed on a shard when it is
enrolled (a hash of its id among `central.shards`), its events flow through that
shard's intake stream only, and each shard has an applier of its own. A store enrolled
onto a shard no store had yet gets that shard's stream and applier while the head
office runs."""

from __future__ import annotations

import re
from typing import Any

import orjson

from autogrocery.central.enroll import enroll
from autogrocery.chain.protocol import Facts, Level, intake_stream, shard_of, up_stream
from autogrocery.config import load_config
from tests.central.conftest import Central, CentralFactory
from tests.waiting import eventually

# With three shards these land on shards 0, 1 and 2 (CRC-32 of the id, modulo 3).
PLACED = {"north": 0, "south": 1, "west": 2}


def sources(central: Central) -> dict[str, list[str]]:
    """Each intake stream on the hub, and the streams it sources."""
    report: dict[str, Any] = orjson.loads(central.sourced())
    found: dict[str, list[str]] = {}
    for account in report.get("account_details") or []:
        for stream in account.get("stream_detail") or []:
            name = stream["name"]
            if name.startswith("CHAIN_IN"):
                config = stream.get("config") or {}
                found[name] = sorted(s["name"] for s in config.get("sources") or [])
    return found


async def applied(central: Central, store: str, count: int) -> bool:
    return (await central.stats(store))["events_applied"] == count


def metric(text: str, name: str, shard: int) -> float | None:
    found = re.search(rf'^{name}{{shard="{shard}",stream="[^"]+"}} (\S+)$', text, re.M)
    return float(found[1]) if found else None


async def test_each_shard_sources_only_its_stores_and_applies_them(
    make_central: CentralFactory,
) -> None:
    central = await make_central("central.shards=3")
    assert {store: shard_of(store, 3) for store in PLACED} == PLACED
    leaves = {store: await central.leaf(store) for store in PLACED}
    for n, leaf in enumerate(leaves.values(), start=1):
        for on_hand in range(n):
            await leaf.publish(Facts(levels=[Level("BRD-001", on_hand, 0)]))
    for n, store in enumerate(PLACED, start=1):
        await eventually(lambda s=store, c=n: applied(central, s, c), within=20, every=0.05)

    assert sources(central) == {
        intake_stream(shard): [up_stream(store, 1)] for store, shard in PLACED.items()
    }
    _, body = await central.call("GET", "/api/chain/stores")
    assert {s["store_id"]: s["shard"] for s in body["stores"]} == PLACED
    _, ready = await central.call("GET", "/readyz", auth=False)
    assert {"applier", "applier CHAIN_IN_1", "applier CHAIN_IN_2"} <= set(ready["checks"])

    _, metrics = await central.call("GET", "/metrics", auth=False)
    text = metrics.decode()
    for store, shard in PLACED.items():
        assert metric(text, "autogrocery_chain_shard_stores", shard) == 1.0, store
        applied_total = metric(text, "autogrocery_chain_shard_events_applied_total", shard)
        assert applied_total == float(shard + 1), store  # north 1, south 2, west 3
        assert metric(text, "autogrocery_chain_shard_lag_events", shard) is not None
        assert metric(text, "autogrocery_chain_shard_pending_messages", shard) is not None


async def test_a_store_enrolled_onto_a_new_shard_flows_without_a_restart(
    central: Central,
) -> None:
    """The head office runs with one shard; the operator raises `central.shards` to 3
    and enrols `west` (shard 2 of 3): the running head office makes CHAIN_IN_2 and its
    applier, sources west's stream into it, and applies its events. `north` stays on
    shard 0, where its events keep their order."""
    north = await central.leaf("north")
    await north.publish(Facts(levels=[Level("BRD-001", 5, 0)]))
    await eventually(lambda: applied(central, "north", 1), within=20, every=0.05)

    c = central.config.central
    overrides = [f"central.data_dir={c.data_dir}", f"central.db={c.db}", "central.shards=3"]
    raised = load_config(env={}, overrides=overrides)
    join = central.tmp / "west.join"
    assert enroll(raised.central, "west", out=join).shard == 2
    central.service.enrolment_changed()  # what `central enroll`'s SIGHUP does
    west = await central.leaf("west", enroll=False)
    await west.publish(Facts(levels=[Level("BRD-001", 7, 0)]))
    await north.publish(Facts(levels=[Level("BRD-001", 4, 0)]))
    await eventually(lambda: applied(central, "west", 1), within=20, every=0.05)
    await eventually(lambda: applied(central, "north", 2), within=20, every=0.05)

    assert sources(central) == {
        "CHAIN_IN": [up_stream("north", 1)],
        "CHAIN_IN_2": [up_stream("west", 1)],
    }
    _, stock = await central.call("GET", "/api/chain/stock?sku=BRD-001")
    assert {s["store_id"]: s["on_hand"] for s in stock["stores"]} == {"north": 4, "west": 7}


async def test_a_store_is_placed_by_the_running_head_offices_shard_count(
    make_central: CentralFactory,
) -> None:
    """`central run -o central.shards=4`, then a plain `central enroll` (its config says
    1): the store is placed among the head office's 4 shards, not all on shard 0."""
    central = await make_central("central.shards=4")
    c = central.config.central
    plain = load_config(env={}, overrides=[f"central.data_dir={c.data_dir}", f"central.db={c.db}"])
    assert plain.central.shards == 1
    done = enroll(plain.central, "west", out=central.tmp / "west.join")
    assert (done.shard, done.shards) == (shard_of("west", 4), 4)
    assert done.shard != 0

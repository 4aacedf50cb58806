"""The applier, driven as stores drive it: real leaf nats-servers publish UpEvents into
their own streams; the hub sources them into CHAIN_IN; the head office applies each
event once, in order, and refuses what a store's stream has no right to say."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import msgspec
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, StorageType, StreamConfig

from autogrocery.central.hub import internal_users
from autogrocery.central.hubconf import CENTRAL_USER
from autogrocery.central.intake import Applier
from autogrocery.central.readmodel import Arrival
from autogrocery.central.sql_model import SqlReadModel
from autogrocery.chain.protocol import (
    INTAKE_CONSUMER,
    Facts,
    Hwm,
    Level,
    Movement,
    OrderEnd,
    UpEvent,
    intake_stream,
    up_stream,
    up_subjects,
)
from autogrocery.ports import free_port
from tests.central.conftest import Central, CentralFactory
from tests.waiting import eventually

SKU = "BRD-001"


def sale(order_id: str, total: int, at: float | None = None) -> OrderEnd:
    return OrderEnd(order_id, "CUSTOMER", "COMPLETED", total, 1, at or time.time())


async def test_each_event_applied_once_in_order_and_hwm_sent_down(central: Central) -> None:
    north = await central.leaf("north")
    for on_hand in (10, 9, 7, 12):
        await north.publish(Facts(levels=[Level(SKU, on_hand, 1)]))

    async def applied() -> dict:
        stats = await central.stats("north")
        return stats if stats["events_applied"] == 4 else {}

    stats = await eventually(applied, within=15, every=0.05)
    assert stats == {
        "store_id": "north",
        "events_applied": 4,
        "duplicates": 0,
        "last_seq": 4,
        "refused": 0,
    }
    _, stock = await central.call("GET", f"/api/chain/stock?sku={SKU}")
    assert stock["total_on_hand"] == 12  # the last event's level: applied in order
    assert stock["stores"][0]["reserved"] == 1

    async def hwm() -> Hwm | None:
        found = (await north.received()).get("chain.down.north.hwm")
        return found if found is not None and found.hwm == 4 else None

    assert (
        await eventually(hwm, within=15, every=0.05)
    ).hwm == 4  # the store may prune its outbox up to 4


async def test_a_new_epoch_is_sourced_and_its_replays_are_duplicates(central: Central) -> None:
    """A leaf that lost its stream makes UP_<store>_<epoch+1> and publishes again what the
    head office had not confirmed: the reconciler sources the new stream without a
    restart, and what was applied already is not applied again (CHAIN_IN's duplicate
    window drops it, or the read model's key does)."""
    north = await central.leaf("north")
    for n in range(3):
        await north.publish(Facts(orders=[sale(f"ord-{n}", 100)]))
    await eventually(lambda: _applied(central, "north", 3), within=15, every=0.05)
    # The leaf lost its stream; the store makes the next epoch's.
    await north.js.delete_stream(up_stream("north", 1))
    await north.js.add_stream(
        StreamConfig(
            name=up_stream("north", 2), subjects=[up_subjects("north")], storage=StorageType.FILE
        )
    )
    north.seq = 1  # republish 2 and 3 (not confirmed yet, as far as the store knows), then 4
    for n in range(1, 4):
        await north.publish(Facts(orders=[sale(f"ord-{n}", 100)]))
    await central.linked("north", epoch=2)

    async def caught_up() -> dict:
        stats = await central.stats("north")
        return stats if stats["events_applied"] == 4 else {}

    assert (await eventually(caught_up, within=15, every=0.05))["last_seq"] == 4
    _, sales = await central.call("GET", "/api/chain/sales")
    assert sales["stores"][0]["completed_orders"] == 4  # not 6
    assert sales["stores"][0]["revenue"] == "4.00"
    assert up_stream("north", 1) not in central.sourced()  # a gone stream is no source


async def test_a_duplicate_is_counted_and_skipped(central: Central) -> None:
    """The same event id again, past every NATS duplicate window (another message id):
    the read model's key recognises it."""
    north = await central.leaf("north")
    first = await north.publish(Facts(orders=[sale("ord-1", 500)]))
    await north.js.publish(
        "chain.up.north.orders",
        msgspec.json.encode(first),
        headers={"Nats-Msg-Id": "north:1:again"},
    )
    await north.publish(Facts(orders=[sale("ord-2", 500)]))

    async def settled() -> dict:
        stats = await central.stats("north")
        return stats if stats["events_applied"] == 2 and stats["duplicates"] == 1 else {}

    assert (await eventually(settled, within=15, every=0.05))["last_seq"] == 2
    _, sales = await central.call("GET", "/api/chain/sales")
    assert sales["stores"][0]["completed_orders"] == 2
    _, metrics = await central.call("GET", "/metrics", auth=False)
    assert b'autogrocery_chain_store_events_duplicates_total{store="north"} 1.0' in metrics


async def test_an_event_claiming_another_store_is_refused_and_counted(central: Central) -> None:
    north = await central.leaf("north")
    south = await central.leaf("south")
    await south.publish(Facts(levels=[Level(SKU, 5, 0)]))
    # North's credentials, north's stream, south's name: refused, counted against north.
    await north.publish(Facts(levels=[Level(SKU, 999, 0)]), store_id="south", seq=77)
    # Not an event at all.
    await north.js.publish("chain.up.north.stock", b"not json", headers={"Nats-Msg-Id": "x"})
    # A rogue stream of north's leaf on south's subjects, claiming south: refused too.
    await north.js.add_stream(
        StreamConfig(
            name=up_stream("north", 9), subjects=[up_subjects("south")], storage=StorageType.FILE
        )
    )
    await north.publish(
        Facts(levels=[Level(SKU, 999, 0)]), store_id="south", subject_store="south", seq=78
    )
    await north.publish(Facts(levels=[Level(SKU, 3, 0)]))  # north's own: applied

    async def refused() -> dict:
        stats = await central.stats("north")
        return stats if stats["refused"] == 3 and stats["events_applied"] == 1 else {}

    await eventually(refused, within=20, every=0.05)
    south_applied = {
        "store_id": "south",
        "events_applied": 1,
        "duplicates": 0,
        "last_seq": 1,
        "refused": 0,
    }

    async def south_stats() -> bool:  # its own stream: applied in its own time
        return await central.stats("south") == south_applied

    await eventually(south_stats, within=20, every=0.05)
    _, stock = await central.call("GET", f"/api/chain/stock?sku={SKU}")
    assert {s["store_id"]: s["on_hand"] for s in stock["stores"]} == {"north": 3, "south": 5}
    _, metrics = await central.call("GET", "/metrics", auth=False)
    assert b'autogrocery_chain_store_events_refused_total{store="north"} 3.0' in metrics


async def test_dying_between_commit_and_ack_applies_nothing_twice(central: Central) -> None:
    """The batch commits, the central dies before its acks: the hub redelivers the
    batch (ack_wait), and every event of it is recognised and dropped."""
    worker = central.service.worker
    assert worker is not None
    assert worker.applier is not None
    died: list[bool] = []

    def die_once() -> None:
        if not died:
            died.append(True)
            raise RuntimeError("killed between the commit and the acks")

    worker.applier.after_commit = die_once
    north = await central.leaf("north")
    for n in range(3):
        await north.publish(Facts(orders=[sale(f"ord-{n}", 250)]))

    async def redelivered() -> dict:
        stats = await central.stats("north")
        return stats if stats["events_applied"] == 3 and stats["duplicates"] >= 1 else {}

    await eventually(redelivered, within=30, every=0.05)
    assert died
    _, sales = await central.call("GET", "/api/chain/sales")
    assert sales["stores"][0]["completed_orders"] == 3
    assert sales["stores"][0]["revenue"] == "7.50"


async def test_a_hub_killed_comes_back_where_it_was_and_loses_nothing(central: Central) -> None:
    north = await central.leaf("north")
    for n in range(2):
        await north.publish(Facts(orders=[sale(f"ord-{n}", 100)]))
    await eventually(lambda: _applied(central, "north", 2), within=15, every=0.05)
    hub = central.service.hub
    assert hub is not None
    assert hub.server is not None
    before = hub.server.ports
    os.kill(hub.server.pid or 0, signal.SIGKILL)
    for n in range(2, 5):  # the store goes on: its leaf keeps them meanwhile
        await north.publish(Facts(orders=[sale(f"ord-{n}", 100)]))

    async def back() -> bool:
        return hub.server is not None and hub.server.restarts == 1 and hub.server.pid is not None

    await eventually(back, within=30, every=0.05)
    assert hub.server.ports == before  # the same addresses: the central and leaves find it
    await eventually(lambda: _applied(central, "north", 5), within=30, every=0.05)
    _, sales = await central.call("GET", "/api/chain/sales")
    assert sales["stores"][0]["completed_orders"] == 5


@pytest.mark.parametrize("read_model", ["sqlite"], indirect=True)
async def test_an_older_head_offices_consumer_is_made_again_where_it_stood(
    make_central: CentralFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A head office before batches were acknowledged once made its intake consumer
    with explicit acks (a consumer's ack policy cannot change). Started over it, the
    head office makes it again from its ack floor: the events that came while it was
    down are applied, none of the earlier ones again, none lost."""
    leaf_port = f"central.leaf_port={free_port()}"
    explicit = Applier._consumer

    def older(applier: Applier, after: int) -> ConsumerConfig:
        return replace(explicit(applier, after), ack_policy=AckPolicy.EXPLICIT)

    monkeypatch.setattr(Applier, "_consumer", older)
    first = await make_central(leaf_port, data_dir=tmp_path / "hq")
    north = await first.leaf("north")
    for n in range(3):  # one at a time: each batch is one message, acknowledged
        await north.publish(Facts(orders=[sale(f"ord-{n}", 100)]))
        await eventually(lambda n=n: _applied(first, "north", n + 1), within=15, every=0.05)
    await first.service.stop()
    monkeypatch.undo()
    for n in range(3, 5):  # the store goes on; its leaf keeps them
        await north.publish(Facts(orders=[sale(f"ord-{n}", 100)]))

    second = await make_central(leaf_port, data_dir=tmp_path / "hq")
    await eventually(lambda: _applied(second, "north", 5), within=30, every=0.05)
    stats = await second.stats("north")
    assert (stats["events_applied"], stats["duplicates"], stats["last_seq"]) == (5, 0, 5)
    hub = second.service.hub
    assert hub is not None
    info = await consumer_info(hub.client_urls, second.service.layout.keys)
    assert info.config.ack_policy == AckPolicy.ALL
    assert info.ack_floor is not None
    assert info.ack_floor.stream_seq == 5


async def consumer_info(urls: list[str], keys: Path) -> ConsumerInfo:
    users = internal_users(keys)
    nc = await nats.connect(urls, user=CENTRAL_USER, password=users.central_password)
    try:
        return await nc.jetstream().consumer_info(intake_stream(0), INTAKE_CONSUMER)
    finally:
        await nc.close()


async def _applied(central: Central, store: str, count: int) -> bool:
    return (await central.stats(store))["events_applied"] == count


# --- the read model alone -----------------------------------------------------------------


def _arrival(store: str, seq: int, facts: Facts) -> Arrival:
    event = UpEvent(store, seq, "stock", 1_700_000_000.0 + seq, facts)
    return Arrival(store, f"UP_{store}_1", seq, time.time(), event)


def test_a_batch_is_one_transaction(
    bare_model: SqlReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails part-way leaves nothing of itself behind (it is retried whole)."""
    from autogrocery.central import apply

    model = bare_model
    model.enroll("north", "x", rotate=False, now=0.0)
    real = apply._write_days

    def failing(bulk, conn, fold):  # type: ignore[no-untyped-def]
        raise OSError("disk full")  # after the batch's events and levels were written

    monkeypatch.setattr(apply, "_write_days", failing)
    batch = [_arrival("north", n, Facts(levels=[Level(SKU, n, 0)])) for n in (1, 2)]
    with pytest.raises(OSError, match="disk full"):
        model.apply(batch)
    monkeypatch.setattr(apply, "_write_days", real)
    conn = model._conn()
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM stock").fetchone()[0] == 0
    done = model.apply(batch)
    assert (done.applied, done.duplicates) == (2, 0)
    assert model.apply(batch).duplicates == 2
    waste = Movement(SKU, "WASTE", -2, None, "lot-1", 150, 1_700_000_000.0)
    assert model.apply([_arrival("north", 3, Facts(movements=[waste]))]).applied == 1
    row = conn.execute("SELECT waste_value FROM daily").fetchone()
    assert row[0] == 300
    # An event applied late cannot roll stock back (levels keep the newest event's).
    model.apply([_arrival("north", 10, Facts(levels=[Level(SKU, 7, 0)]))])
    model.apply([_arrival("north", 4, Facts(levels=[Level(SKU, 99, 0)]))])
    assert conn.execute("SELECT on_hand FROM stock").fetchone()[0] == 7


def test_upevent_round_trip_is_what_the_applier_decodes() -> None:
    event = UpEvent("north", 1, "heartbeat", 1.0, Facts(on_hand_units=5))
    assert msgspec.json.decode(msgspec.json.encode(event), type=UpEvent) == event


async def test_a_backlog_past_flow_control_is_sourced_whole_from_every_store(
    central: Central,
) -> None:
    """Thousands of events waiting in two stores' leaves: sourcing across accounts
    stalls on flow control unless its replies can reach each store's account (a
    small backlog never asks for flow control, so this takes thousands)."""
    leaves = {name: await central.leaf(name) for name in ("north", "south")}
    backlog = 3000
    levels = [Level(f"SKU-{n:03}", n, 0) for n in range(40)]  # ~2 KB an event, as a busy batch
    for leaf in leaves.values():
        nc = leaf.nc
        for seq in range(1, backlog + 1):  # pipelined: the leaf acks them all at once
            event = UpEvent(leaf.store_id, seq, "stock", 0.0, Facts(levels=levels))
            await nc.publish(
                f"chain.up.{leaf.store_id}.stock",
                msgspec.json.encode(event),
                headers={"Nats-Msg-Id": f"{leaf.store_id}:{seq}"},
            )
        await nc.flush()

    async def all_in() -> bool:
        stats = [await central.stats(name) for name in leaves]
        return all(s["last_seq"] == backlog for s in stats)

    await eventually(all_in, within=60, every=0.05)


def test_an_event_with_a_nul_in_a_text_is_refused_not_retried_for_ever() -> None:
    """PostgreSQL's text cannot hold a NUL: such an event would fail its batch there at
    every retry and stop the chain's intake. It is refused, as a malformed one is."""
    from autogrocery.central.intake import check

    source = "UP_north_1:2UW1oQF4 17 > > chain.up.north.stock 4Hfwa1jU"
    for sku, refused in (("B\x00D", True), ("B\\u0000D", False), ("BRD-001", False)):
        event = UpEvent("north", 17, "stock", 1.0, Facts(levels=[Level(sku, 1, 0)]))
        data = msgspec.json.encode(event)
        arrival = check("chain.up.north.stock", data, source, 2.0, {"north"})
        assert (arrival.event is None) is refused, sku
        if refused:
            assert arrival.refusal == "a text in it holds a NUL character"
            assert arrival.source_store == "north"  # counted against its store

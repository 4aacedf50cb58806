"""The store's relay against its real leaf nats-server, the test playing the head
office on the leaf itself: every outbox row reaches the leaf's stream once and in
order, the high-water mark prunes, a restart resends what was not acknowledged, a
lost leaf stream is replaced under a new epoch, and what comes down reaches the
actors once."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from autogrocery.chain.leaf import leaf_dir
from autogrocery.chain.link import ChainLink
from autogrocery.chain.protocol import (
    CatalogProduct,
    CatalogVersion,
    Hwm,
    Ship,
    TransferItem,
    UpEvent,
    down_id,
    down_subject,
    up_stream,
)
from autogrocery.config import Config
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.chain.stores import linked, write_join
from tests.conftest import ConfigFactory
from tests.helpers import line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def config(make_config: ConfigFactory, tmp_path: Path) -> Config:
    join = write_join(tmp_path / "north.join", "north")
    return make_config("robots.per_aisle=1", f"chain.join={join}", "chain.heartbeat=0.2")


async def leaf_events(link: ChainLink, epoch: int = 1) -> list[tuple[str, UpEvent]]:
    """Every message in the store's up stream: (its Nats-Msg-Id, the event)."""
    assert link.leaf.ports is not None
    nc = await nats.connect(link.leaf.ports.client)
    try:
        js = nc.jetstream()
        info = await js.stream_info(up_stream("north", epoch))
        found: list[tuple[str, UpEvent]] = []
        if not info.state.messages:
            return found
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(up_stream("north", epoch), seq)
            headers = message.headers or {}
            found.append((headers["Nats-Msg-Id"], msgspec.json.decode(message.data, type=UpEvent)))
        return found
    finally:
        await nc.close()


async def send_down(
    link: ChainLink, kind: str, key: str | int | None, body: msgspec.Struct
) -> None:
    """What the head office sends, put straight into the store's down stream."""
    assert link.leaf.ports is not None
    nc = await nats.connect(link.leaf.ports.client)
    try:
        subject = down_subject("north", kind, key)
        await nc.jetstream().publish(
            subject,
            msgspec.json.encode(body),
            headers={"Nats-Msg-Id": down_id("north", kind, key or 0)},
        )
    finally:
        await nc.close()


def outbox_seqs(data: Path) -> list[int]:
    with sqlite3.connect(data / DB_NAME) as conn:
        return [row[0] for row in conn.execute("SELECT seq FROM chain_outbox ORDER BY seq")]


async def shop(system: System, n: int) -> list[str]:
    ids = []
    for number in range(n):
        preview = await system.preview(f"fridge-{number % 3}", [line("BRD-001", 1)])
        await system.confirm(preview.order_id, f"fridge-{number % 3}")
        ids.append(preview.order_id)
    await wait_final(system, ids)
    return ids


@pytest.fixture
async def system(config: Config) -> AsyncIterator[System]:
    running = await start_system(config, robot_seed=7)
    try:
        yield running
    finally:
        await running.stop()


async def test_every_row_reaches_the_leaf_once_in_order_and_the_hwm_prunes_it(
    config: Config, system: System
) -> None:
    async with linked(config, system) as link:
        await shop(system, 10)
        rows = outbox_seqs(config.data_path)

        async def published() -> list[tuple[str, UpEvent]] | None:
            found = await leaf_events(link)
            beat = any(e.kind == "heartbeat" for _, e in found)  # one a 0.2 s, later rows
            return found if beat and [e.seq for _, e in found][: len(rows)] == rows else None

        found = await eventually(published, within=10)
        assert [msg_id for msg_id, _ in found] == [f"north:{e.seq}" for _, e in found]
        assert {e.kind for _, e in found} >= {"stock", "orders", "heartbeat"}
        assert all(e.store_id == "north" for _, e in found)
        moved = sum(len(e.facts.movements) for _, e in found)
        assert moved == 10
        first = found[0][1]  # every SKU's levels once, as the relay starts
        assert first.kind == "stock"
        assert {lv.sku for lv in first.facts.levels} == {i.sku for i in await system.levels()}

        hwm = rows[len(rows) // 2]
        await send_down(link, "hwm", None, Hwm(hwm, 0.0))
        await eventually(lambda: _asyncify(min(outbox_seqs(config.data_path)) > hwm), within=10)
        status = await link.relay.status()
        assert status.outbox_pending == link.relay.tables.newest() - hwm
        assert status.hub_connected is False


async def test_a_restart_resends_what_the_leaf_did_not_acknowledge_and_it_is_kept_once(
    config: Config, system: System
) -> None:
    async with linked(config, system) as link:
        await shop(system, 5)
        rows = outbox_seqs(config.data_path)
        await eventually(lambda: _asyncify(link.relay.sent >= rows[-1]), within=10)
    with sqlite3.connect(config.data_path / DB_NAME) as conn:  # as if acks never came
        conn.execute("UPDATE chain_link SET sent = 0")
    async with linked(config, system) as link:
        await eventually(lambda: _asyncify(link.relay.sent >= rows[-1]), within=10)
        ids = [msg_id for msg_id, _ in await leaf_events(link)]
        assert len(ids) == len(set(ids))  # published twice, kept once
        assert {f"north:{seq}" for seq in rows} <= set(ids)


async def test_a_mark_past_what_the_leaf_acknowledged_prunes_only_what_it_did(
    config: Config, system: System
) -> None:
    """With a batch in flight, the head office's mark (its highest event) can stand past
    a row the leaf lost while it took the next ones: that row must not be pruned, and
    goes again. Before, the mark also moved `sent` and pruned it: lost for good."""
    async with linked(config, system) as link:
        await shop(system, 3)
        acknowledged = outbox_seqs(config.data_path)[-1]
        await eventually(lambda: _asyncify(link.relay.sent >= acknowledged), within=10)
        (up,) = (task for task in link.relay._tasks if task.get_name() == "relay-up")
        up.cancel()  # the leaf takes nothing more
        await shop(system, 3)
        newest = link.relay.tables.newest()
        assert newest > link.relay.sent
        await send_down(link, "hwm", None, Hwm(newest, 0.0))
        await eventually(lambda: _asyncify(link.relay.hwm == newest), within=10)
        kept = outbox_seqs(config.data_path)
        assert link.relay.sent < newest
        assert kept[0] == link.relay.sent + 1  # what was acknowledged is pruned
        assert newest in kept  # what was not, is not
    async with linked(config, system) as link:  # and it goes
        await eventually(lambda: _asyncify(link.relay.sent >= newest), within=10)
        ids = {msg_id for msg_id, _ in await leaf_events(link)}
        assert {f"north:{seq}" for seq in kept if seq <= newest} <= ids


async def test_a_leaf_that_lost_its_stream_gets_a_new_epoch_with_what_was_not_confirmed(
    config: Config, system: System
) -> None:
    async with linked(config, system) as link:
        await shop(system, 4)
        rows = outbox_seqs(config.data_path)
        await eventually(lambda: _asyncify(link.relay.sent >= rows[-1]), within=10)
        await send_down(link, "hwm", None, Hwm(rows[1], 0.0))
        await eventually(lambda: _asyncify(link.relay.hwm == rows[1]), within=10)
    shutil.rmtree(leaf_dir(config.data_path) / "js")  # the leaf's disk is gone
    async with linked(config, system) as link:
        assert link.relay.epoch == 2
        await eventually(lambda: _asyncify(link.relay.sent >= rows[-1]), within=10)
        seqs = [e.seq for _, e in await leaf_events(link, epoch=2)]
        assert seqs[: len(rows) - 2] == rows[2:]  # from the hwm on, again, in order


async def test_what_comes_down_reaches_the_actors_once(config: Config, system: System) -> None:
    async with linked(config, system) as link:
        ship = Ship("tr-5", "south", [TransferItem("BRD-002", 3)])
        await send_down(link, "ship", "tr-5", ship)
        await send_down(link, "ship", "tr-5", ship)  # the head office resent it
        catalog = CatalogVersion(1, [CatalogProduct("BRD-002", price=333)])
        await send_down(link, "catalog", 1, catalog)

        async def done() -> Any:
            found, _ = await system.transfers()
            version = (await link.relay.status()).catalog_version
            return found if found and found[0].status == "COMPLETED" and version == 1 else None

        found = await eventually(done, within=30)
        assert [t.request_key for t in found] == ["tr-5"]
        price = next(i.price for i in await system.levels() if i.sku == "BRD-002")
        assert price == 333


async def test_a_leaf_killed_is_restarted_and_the_relay_carries_on(
    config: Config, system: System
) -> None:
    async with linked(config, system) as link:
        await shop(system, 2)
        first = link.leaf.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: _asyncify(link.leaf.pid not in (None, first)), within=30)
        await shop(system, 3)
        rows = outbox_seqs(config.data_path)
        await eventually(lambda: _asyncify(link.relay.sent >= rows[-1]), within=30)
        seqs = [e.seq for _, e in await leaf_events(link)]
        assert set(rows) <= set(seqs)


async def _asyncify(value: object) -> object:
    await asyncio.sleep(0)
    return value

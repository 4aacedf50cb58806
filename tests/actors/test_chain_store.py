"""A store in a chain, seen from its actors: the outbox is written in the transaction of
each change, transfers are shipped and received exactly once, catalog versions are
applied once and in order. (The relay and NATS: tests/chain.)"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from autogrocery.chain import desk
from autogrocery.chain.protocol import (
    CatalogProduct,
    CatalogVersion,
    Facts,
    Receive,
    Ship,
    ShipLine,
    TransferItem,
)
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import check_invariants, line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)


def outbox(data: Path) -> list[tuple[int, str, Facts]]:
    with sqlite3.connect(data / DB_NAME) as conn:
        rows = conn.execute("SELECT seq, kind, facts FROM chain_outbox ORDER BY seq").fetchall()
    return [(seq, kind, msgspec.json.decode(facts, type=Facts)) for seq, kind, facts in rows]


def snapshot(data: Path) -> tuple[int, int, int]:
    """In one read transaction: movements in the ledger, movements in the outbox, and
    final orders in the outbox."""
    conn = sqlite3.connect(data / DB_NAME, isolation_level=None)
    try:
        conn.execute("BEGIN")
        ledger = conn.execute(
            "SELECT COUNT(*) FROM movements WHERE ref IS NOT 'opening-stock'"
        ).fetchone()[0]
        rows = [row[0] for row in conn.execute("SELECT facts FROM chain_outbox")]
        conn.execute("COMMIT")
    finally:
        conn.close()
    facts = [msgspec.json.decode(row, type=Facts) for row in rows]
    return ledger, sum(len(f.movements) for f in facts), sum(len(f.orders) for f in facts)


@pytest.fixture
async def store(make_config: ConfigFactory, tmp_path: Path) -> Any:
    config = make_config("robots.per_aisle=1", f"chain.join={tmp_path / 'north.join'}")
    system = await start_system(config, robot_seed=7)
    try:
        yield system, config
    finally:
        await system.stop()


async def test_every_ledger_movement_and_final_order_is_in_the_outbox_with_its_commit(
    store: tuple[System, Any],
) -> None:
    system, config = store
    ids: list[str] = []

    async def shop(n: int) -> None:
        preview = await system.preview(f"fridge-{n % 3}", [line("BRD-001", 1)])
        await system.confirm(preview.order_id, f"fridge-{n % 3}")
        ids.append(preview.order_id)

    looked = asyncio.Event()
    shopping = True

    async def look() -> None:
        while shopping:  # while orders flow: the ledger and the outbox agree
            ledger, moved, _ = await asyncio.to_thread(snapshot, config.data_path)
            assert ledger == moved
            looked.set()
            await asyncio.sleep(0.005)

    # Six rounds of ten orders, each after a fresh look at the books: the looks fall
    # among the orders on a fast machine too (60 orders at once could all be done
    # before the second look).
    looking = asyncio.create_task(look())
    try:
        for start in range(0, 60, 10):
            looked.clear()
            await asyncio.wait_for(looked.wait(), 10)
            await asyncio.gather(*(shop(n) for n in range(start, start + 10)))
    finally:
        shopping = False
        await looking
    await wait_final(system, ids)
    ledger, moved, ended = await asyncio.to_thread(snapshot, config.data_path)
    assert ledger == moved == 60
    assert ended == 60
    rows = outbox(config.data_path)
    assert [seq for seq, _, _ in rows] == sorted(seq for seq, _, _ in rows)
    levels = [lv for _, kind, f in rows if kind == "stock" for lv in f.levels]
    assert levels[-1].sku == "BRD-001"
    assert (levels[-1].on_hand, levels[-1].reserved) == (140, 0)
    assert any(lv.reserved > 0 for lv in levels)  # previews held stock on the way


async def test_a_store_in_no_chain_writes_no_outbox(make_config: ConfigFactory) -> None:
    config = make_config("robots.per_aisle=1")
    system = await start_system(config, robot_seed=7)
    try:
        preview = await system.preview("fridge-1", [line("BRD-001", 1)])
        await system.confirm(preview.order_id, "fridge-1")
        await wait_final(system, [preview.order_id])
    finally:
        await system.stop()
    assert outbox(config.data_path) == []


async def test_a_transfer_out_is_picked_once_and_ships_its_lots(
    store: tuple[System, Any],
) -> None:
    system, config = store
    today = system.today()
    restock = await system.restock(
        "truck-1",
        [
            line("DAI-001", 5, "0.50", str(today + timedelta(days=2))),
            line("DAI-001", 5, "0.50", str(today + timedelta(days=9))),
        ],
    )
    await wait_final(system, [], restocks=[restock.order_id])
    ship = Ship("tr-1", "south", [TransferItem("DAI-001", 7), TransferItem("BRD-002", 2)])
    first, again = await asyncio.gather(desk.ship(system, ship), desk.ship(system, ship))
    assert first.order_id == again.order_id  # a redelivered request finds the first
    assert (first.kind, first.status) == ("TRANSFER_OUT", "PROCESSING")
    await eventually(lambda: _status(system, first.order_id, "COMPLETED"), within=10)
    third = await desk.ship(system, ship)  # long after: still the same transfer
    assert third.order_id == first.order_id
    moves, _ = await system.movements(movement_type="TRANSFER_OUT")
    assert sorted((m.sku, m.delta, m.ref) for m in moves) == [
        ("BRD-002", -2, "tr-1"),
        ("DAI-001", -5, "tr-1"),  # the lot due first, all of it (FEFO)
        ("DAI-001", -2, "tr-1"),
    ]
    shipments = [s for _, _, f in outbox(config.data_path) for s in f.shipments]
    assert len(shipments) == 1
    (shipped,) = shipments
    assert (shipped.transfer_id, shipped.to_store) == ("tr-1", "south")
    dairy = sorted(
        (ln.quantity, ln.unit_cost, ln.expiry_date) for ln in shipped.lines if ln.sku == "DAI-001"
    )
    assert dairy == [
        (2, 50, str(today + timedelta(days=9))),
        (5, 50, str(today + timedelta(days=2))),
    ]
    check_invariants(config.data_path)


async def test_a_transfer_the_store_cannot_ship_is_refused_once_saying_why(
    store: tuple[System, Any],
) -> None:
    system, config = store
    ship = Ship("tr-2", "south", [TransferItem("BRD-001", 500), TransferItem("NOPE-1", 1)])
    refused = await desk.ship(system, ship)
    assert refused.status == "FAILED"
    assert refused.reason is not None
    assert "BRD-001 (asked 500, free 200)" in refused.reason
    assert "NOPE-1 is not sold here" in refused.reason
    await system.adjust_stock("BRD-001", 400, "COUNT", "found a pallet")
    again = await desk.ship(system, ship)  # enough now, but the first decision stands
    assert (again.order_id, again.status) == (refused.order_id, "FAILED")
    inventory = {i.sku: i for i in await system.levels()}
    assert inventory["BRD-001"].reserved == 0
    ends = [o for _, _, f in outbox(config.data_path) for o in f.orders]
    assert [(o.transfer_id, o.status, o.kind) for o in ends] == [("tr-2", "FAILED", "TRANSFER_OUT")]


async def test_a_transfer_in_is_shelved_once_into_lots_with_the_shipped_dates(
    store: tuple[System, Any],
) -> None:
    system, config = store
    expiry = str(system.today() + timedelta(days=4))
    receive = Receive(
        "tr-3",
        "south",
        [
            ShipLine("DAI-002", 3, 80, expiry, None),
            ShipLine("DAI-002", 2, 90, expiry, None),  # another lot of that date: one line
            ShipLine("BRD-002", 4, 100),
            ShipLine("NOPE-1", 1, 100),  # not sold here: received short
        ],
    )
    first = await desk.receive(system, receive)
    second = await desk.receive(system, receive)
    assert first is not None
    assert second is not None
    assert first.order_id == second.order_id
    await eventually(lambda: _status(system, first.order_id, "COMPLETED"), within=10)
    lots = await system.reports.expiring(30)
    dated = [lot for lot, _ in lots if lot.sku == "DAI-002" and lot.expiry.isoformat() == expiry]
    assert [lot.on_hand for lot in dated] == [5]
    moves, _ = await system.movements(movement_type="TRANSFER_IN")
    assert sorted((m.sku, m.delta, m.ref) for m in moves) == [
        ("BRD-002", 4, "tr-3"),
        ("DAI-002", 5, "tr-3"),
    ]
    receipts = [r for _, _, f in outbox(config.data_path) for r in f.receipts]
    assert [(r.transfer_id, r.from_store) for r in receipts] == [("tr-3", "south")]
    assert {(ln.sku, ln.quantity) for ln in receipts[0].lines} == {("BRD-002", 4), ("DAI-002", 5)}
    check_invariants(config.data_path)


async def test_catalog_versions_are_applied_once_in_order_and_kept_across_a_restart(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    config = make_config("robots.per_aisle=1", f"chain.join={tmp_path / 'north.join'}")
    v1 = CatalogVersion(
        1,
        [
            CatalogProduct(
                "BRD-001", name="Sourdough", price=525, name_he="מחמצת", keywords=["levain"]
            ),
            CatalogProduct("NEW-1", name="Oat milk", aisle="dairy", price=299, unit_cost=150),
            CatalogProduct("NEW-2", name="Moon rock", aisle="space", price=100),  # no such aisle
        ],
    )
    system = await start_system(config, robot_seed=7)
    try:
        assert await desk.apply_catalog(system, v1) == 1
        assert await desk.apply_catalog(system, v1) == 1  # a redelivery: nothing again
        catalog = {item.sku: item for item in await system.levels()}
        assert (catalog["BRD-001"].name, catalog["BRD-001"].price) == ("Sourdough", 525)
        assert (catalog["NEW-1"].aisle, catalog["NEW-1"].available) == ("dairy", 0)
        assert "NEW-2" not in catalog
        v2 = CatalogVersion(2, [CatalogProduct("NEW-1", price=279)])
        assert await desk.apply_catalog(system, v2) == 2
    finally:
        await system.stop()
    system = await start_system(config, robot_seed=7)  # the file describes BRD-001 too
    try:
        assert await desk.apply_catalog(system, v1) == 2  # older than what it holds
        products = {p.sku: p for p in await system_products(system)}
        assert products["BRD-001"].name_he == "מחמצת"  # the version's, not the file's
        assert "levain" in products["BRD-001"].keywords
        assert products["NEW-1"].price == 279
    finally:
        await system.stop()
    versions = [f.catalog_version for _, _, f in outbox(config.data_path) if f.catalog_version]
    assert versions == [1, 2]


async def system_products(system: System) -> list[Any]:
    from autogrocery.domain.catalog import live_products

    return live_products(await system.levels())


async def _status(system: System, order_id: str, status: str) -> bool:
    with sqlite3.connect(system.supervisor.ctx.db_path) as conn:
        row = conn.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return row is not None and row[0] == status

"""Dated lots: first-expired-first-out picking, expired stock never sold, and the expiry
sweep writing off exactly once, with "today" moved by an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from autogrocery.config import Config
from autogrocery.domain.errors import Conflict, InsufficientStock
from autogrocery.domain.messages.stock import ExpireLots
from autogrocery.domain.records import MovementRecord, OrderRecord
from autogrocery.service.system import System
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)

DAY = 86400.0
SKU = "DAI-900"


class Clock:
    """What "today" is for best-before dates; tests move it a day at a time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, days: int) -> None:
        self.offset += days * DAY


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dated_config(make_config: ConfigFactory) -> Config:
    # The sweep runs at start and when asked; its timer is far off, so each test decides.
    return make_config(
        "robots.per_aisle=1", "stock.expiry_sweep_interval=86400", "stock.expiry_alert_days=2"
    )


@contextlib.asynccontextmanager
async def running(config: Config, clock: Clock, *, new: bool = False) -> AsyncIterator[System]:
    """A store on `config`'s data dir with time from `clock`; `new`: add the test SKU."""
    system = await start_system(config, robot_seed=7, clock=clock)
    try:
        if new:
            await system.add_product(SKU, "Test milk", "dairy", "l", 199, 100, min_level=3)
        yield system
    finally:
        await system.stop()


@pytest.fixture
async def store(dated_config: Config, clock: Clock) -> AsyncIterator[System]:
    async with running(dated_config, clock, new=True) as system:
        yield system


async def restock(system: System, *lots: tuple[int, date | None]) -> None:
    lines = [
        line(SKU, quantity, "1.00", expiry.isoformat() if expiry else None)
        for quantity, expiry in lots
    ]
    receipt = await system.restock("truck-1", lines)
    await wait_final(system, [], restocks=[receipt.order_id])


def lots_of(config: Config) -> dict[str | None, int]:
    """On hand per best-before date (None: the undated lot), as stored."""
    with contextlib.closing(sqlite3.connect(config.data_path / DB_NAME)) as conn:
        rows = conn.execute("SELECT expiry_date, on_hand FROM lots WHERE sku = ?", (SKU,))
        return dict(rows.fetchall())


def lot_id(config: Config, expiry: date) -> str:
    with contextlib.closing(sqlite3.connect(config.data_path / DB_NAME)) as conn:
        row = conn.execute(
            "SELECT lot_id FROM lots WHERE sku = ? AND expiry_date = ?", (SKU, expiry.isoformat())
        ).fetchone()
        return str(row[0])


async def buy(system: System, quantity: int) -> OrderRecord:
    preview = await system.preview("fridge-1", [line(SKU, quantity)])
    await system.confirm(preview.order_id, "fridge-1")
    return (await wait_final(system, [preview.order_id]))[preview.order_id]


async def sweep(system: System) -> int:
    written_off: int = await system.ask("stock", ExpireLots())
    return written_off


async def settled_books(system: System, config: Config) -> None:
    """The books balance once analytics has caught up with what finished (its rows are
    written after an order's or restock's final status)."""
    await eventually(lambda: analytics_settled(system), within=10)
    check_invariants(config.data_path)


async def written_off(system: System) -> list[MovementRecord]:
    moves, _ = await system.movements(sku=SKU, movement_type="WASTE")
    return [m for m in moves if m.ref == "expired"]


async def test_an_order_takes_the_lot_that_expires_first_and_spans_into_the_next(
    store: System, dated_config: Config
) -> None:
    today = store.today()
    late, soon, middle = today + timedelta(10), today + timedelta(3), today + timedelta(6)
    await restock(store, (4, late), (2, soon), (4, middle), (5, None))

    order = await buy(store, 3)

    assert order.status == "COMPLETED"
    taken = [(m.lot_id, m.delta) for m in (await store.movements(SKU, "OUT"))[0]]
    assert sorted(delta for _, delta in taken) == [-2, -1]
    assert lots_of(dated_config) == {
        soon.isoformat(): 0,
        middle.isoformat(): 3,
        late.isoformat(): 4,
        None: 5,
    }
    await buy(store, 9)  # the rest of the dated lots, then the undated one
    assert lots_of(dated_config) == {
        soon.isoformat(): 0,
        middle.isoformat(): 0,
        late.isoformat(): 0,
        None: 3,
    }
    await settled_books(store, dated_config)


async def test_an_expired_lot_is_not_sold_and_is_written_off_once(
    store: System, dated_config: Config, clock: Clock
) -> None:
    tomorrow = store.today() + timedelta(1)
    await restock(store, (5, tomorrow), (2, tomorrow + timedelta(30)))
    clock.advance(2)

    with pytest.raises(InsufficientStock):
        await store.preview("fridge-1", [line(SKU, 3)])
    product = await store.product(SKU)
    assert (product.on_hand, product.available, product.expired) == (7, 2, 5)

    assert await sweep(store) == 5
    assert await sweep(store) == 0
    waste = await written_off(store)
    assert [m.delta for m in waste] == [-5]
    product = await store.product(SKU)
    assert (product.on_hand, product.available, product.expired) == (2, 2, 0)
    alerts = {(a.kind, a.level.sku) for a in await store.alerts()}
    assert ("low", SKU) in alerts  # 2 left, below its min level of 3

    await store.stop()
    async with running(dated_config, clock) as again:  # sweeps at start
        assert await sweep(again) == 0
        assert [m.delta for m in await written_off(again)] == [-5]
        assert (await again.product(SKU)).on_hand == 2
    check_invariants(dated_config.data_path)


async def test_a_store_that_starts_after_a_lot_expired_writes_it_off_at_start(
    store: System, dated_config: Config, clock: Clock
) -> None:
    tomorrow = store.today() + timedelta(1)
    await restock(store, (4, tomorrow), (3, tomorrow + timedelta(30)))
    await store.stop()
    clock.advance(2)  # the lot expired while the store was down

    async with running(dated_config, clock) as again:  # no sweep asked: the start's did it
        assert [m.delta for m in await written_off(again)] == [-4]
        assert (await again.product(SKU)).on_hand == 3
    check_invariants(dated_config.data_path)


async def test_the_sweep_runs_by_itself_on_its_interval(
    make_config: ConfigFactory, clock: Clock
) -> None:
    config = make_config("robots.per_aisle=1", "stock.expiry_sweep_interval=0.2")
    async with running(config, clock, new=True) as system:
        await restock(system, (4, system.today() + timedelta(1)))
        clock.advance(2)

        async def swept() -> bool:
            return [m.delta for m in await written_off(system)] == [-4]

        await eventually(swept, within=5)


async def test_the_sweep_leaves_what_an_open_order_holds(
    store: System, dated_config: Config, clock: Clock
) -> None:
    tomorrow = store.today() + timedelta(1)
    await restock(store, (5, tomorrow))
    preview = await store.preview("fridge-1", [line(SKU, 2)])
    clock.advance(2)

    assert await sweep(store) == 3  # the two held for the order stay for it
    await store.confirm(preview.order_id, "fridge-1")
    order = (await wait_final(store, [preview.order_id]))[preview.order_id]

    assert order.status == "COMPLETED"
    assert lots_of(dated_config) == {tomorrow.isoformat(): 0, None: 0}
    assert await sweep(store) == 0
    await settled_books(store, dated_config)


async def test_a_lot_due_soon_raises_an_expiring_alert_and_is_listed(
    store: System, clock: Clock
) -> None:
    soon = store.today() + timedelta(4)
    await restock(store, (6, soon), (6, soon + timedelta(30)))
    await sweep(store)
    assert not [a for a in await store.alerts() if a.kind == "expiring"]

    clock.advance(3)  # now due within the two days' notice
    raised = store.subscribe(["alert.raised"])
    await sweep(store)

    event = await asyncio.wait_for(anext(raised), 5)  # operators hear of it at once
    assert (event.data.kind, event.data.level.sku) == ("expiring", SKU)
    raised.close()
    expiring = [a.lot for a in await store.alerts() if a.kind == "expiring"]
    assert [(lot.sku, lot.expiry, lot.on_hand) for lot in expiring] == [(SKU, soon, 6)]
    listed = await store.reports.expiring(2)
    assert [(lot.sku, lot.expiry, lot.on_hand) for lot, _ in listed] == [(SKU, soon, 6)]


async def test_waste_by_hand_takes_expired_lots_first_and_a_named_lot_when_told(
    store: System, dated_config: Config, clock: Clock
) -> None:
    tomorrow = store.today() + timedelta(1)
    fresh, later = tomorrow + timedelta(20), tomorrow + timedelta(40)
    await restock(store, (3, fresh), (3, later), (2, tomorrow))
    clock.advance(2)

    await store.adjust_stock(SKU, -2, "WASTE", "mouldy")
    assert lots_of(dated_config) == {
        tomorrow.isoformat(): 0,
        fresh.isoformat(): 3,
        later.isoformat(): 3,
        None: 0,
    }

    with pytest.raises(Conflict):  # 6 could be taken, but the named lot holds 3
        await store.adjust_stock(SKU, -4, "WASTE", lot_id=lot_id(dated_config, later))
    await store.adjust_stock(SKU, -1, "WASTE", "dropped", lot_id=lot_id(dated_config, later))
    assert lots_of(dated_config) == {
        tomorrow.isoformat(): 0,
        fresh.isoformat(): 3,
        later.isoformat(): 2,
        None: 0,
    }
    moves, _ = await store.movements(SKU, "WASTE")
    assert [m.lot_id for m in moves] == [
        lot_id(dated_config, later),
        lot_id(dated_config, tomorrow),
    ]
    await settled_books(store, dated_config)


async def test_goods_taken_out_by_hand_come_from_good_lots_never_expired_ones(
    store: System, dated_config: Config, clock: Clock
) -> None:
    tomorrow = store.today() + timedelta(1)
    fresh = tomorrow + timedelta(20)
    await restock(store, (2, fresh), (5, tomorrow))
    clock.advance(2)  # 5 expired, 2 good; no sweep yet

    with pytest.raises(Conflict, match="5 expired: write those off as WASTE"):
        await store.adjust_stock(SKU, -3, "OUT", "staff room")
    await store.adjust_stock(SKU, -2, "OUT", "staff room")
    assert lots_of(dated_config) == {tomorrow.isoformat(): 5, fresh.isoformat(): 0, None: 0}
    moves, _ = await store.movements(SKU, "OUT")
    assert [(m.delta, m.lot_id) for m in moves] == [(-2, lot_id(dated_config, fresh))]
    await settled_books(store, dated_config)

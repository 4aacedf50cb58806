"""Customer and truck flows end to end through the System facade, with real actors."""

from __future__ import annotations

import asyncio
import random

import pytest

from autogrocery.config import Config
from autogrocery.domain.errors import Conflict, InsufficientStock, NotFound, ValidationError
from autogrocery.domain.models import LineRequest, OrderKind
from autogrocery.domain.records import OrderRecord, RequestKey
from autogrocery.service.system import System
from tests.helpers import analytics_settled, check_invariants, csv_order_ids, line, wait_final
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)


async def stock_of(system: System, sku: str) -> dict:
    return next(item for item in await system.levels() if item.sku == sku)


async def test_order_completes_with_its_preview_total(system: System) -> None:
    preview = await system.preview("fridge-1", [line("BRD-001", 2), line("DAI-001", 1)])
    assert preview.status == "PREVIEWED"
    assert {line.aisle for line in preview.lines} == {"bread", "dairy"}
    assert (await stock_of(system, "BRD-001")).reserved == 2

    confirmed = await system.confirm(preview.order_id, "fridge-1")
    assert (confirmed.status, confirmed.first) == ("PROCESSING", True)
    order = (await wait_final(system, [preview.order_id]))[preview.order_id]

    assert order.status == "COMPLETED"
    assert order.total == preview.total
    assert order.latency_ms is not None
    assert order.latency_ms >= 0
    bread = await stock_of(system, "BRD-001")
    assert (bread.on_hand, bread.reserved) == (198, 0)
    moves, _ = await system.movements(sku="BRD-001", movement_type="OUT")
    assert [(m.delta, m.ref) for m in moves] == [(-2, preview.order_id)]


async def test_confirming_twice_dispatches_once(system: System) -> None:
    preview = await system.preview("fridge-1", [line("MEA-002", 3)])
    first = (await system.confirm(preview.order_id, "fridge-1")).first
    again = await system.confirm(preview.order_id, "fridge-1")
    second = again.first
    assert first
    assert not second
    assert again.status in ("PROCESSING", "COMPLETED")
    await wait_final(system, [preview.order_id])
    moves, _ = await system.movements(sku="MEA-002", movement_type="OUT")
    assert len(moves) == 1


async def test_many_orders_and_restocks_keep_the_books_exact(
    system: System, config: Config
) -> None:
    rng = random.Random(42)
    catalog = await system.levels()
    skus = [item.sku for item in catalog]

    async def customer(n: int) -> str | None:
        items = [line(sku, rng.randint(1, 3)) for sku in rng.sample(skus, 3)]
        try:
            preview = await system.preview(f"fridge-{n % 17}", items)
        except InsufficientStock:
            return None
        await system.confirm(preview.order_id, f"fridge-{n % 17}")
        return str(preview.order_id)

    async def truck(n: int) -> str:
        items = [line(sku, rng.randint(5, 40), "1.25") for sku in rng.sample(skus, 4)]
        return str((await system.restock(f"truck-{n % 3}", items)).order_id)

    results = await asyncio.gather(
        *(customer(n) for n in range(200)), *(truck(n) for n in range(20))
    )
    orders = [r for r in results[:200] if r]
    restocks = [r for r in results[200:] if r]
    assert len(orders) == 200
    assert len(restocks) == 20

    final = await wait_final(system, orders, restocks=restocks, within=60)
    assert {view.status for view in final.values()} == {"COMPLETED"}
    await eventually(lambda: analytics_settled(system), within=10)
    check_invariants(config.data_path)
    summary = await system.analytics()
    assert summary["customer"]["completed"] == 200
    assert summary["restock"]["completed"] == 20
    assert summary["customer"]["latency_ms"]["p99"] is not None
    assert sorted(csv_order_ids(config.csv_file)) == sorted(orders + restocks)
    robots = await system.robots()
    assert len(robots) == 10
    assert sum(r.tasks_done for r in robots) >= 200


async def test_two_previews_race_for_the_last_units(system: System) -> None:
    sku = "PAR-001"
    available = (await stock_of(system, sku)).available
    first = await system.preview("fridge-a", [line(sku, available - 5)])
    outcomes = await asyncio.gather(
        system.preview("fridge-b", [line(sku, 5)]),
        system.preview("fridge-c", [line(sku, 5)]),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, OrderRecord)]
    lost = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert len(won) == 1
    assert len(lost) == 1
    assert lost[0].extra["shortages"] == [{"sku": sku, "requested": 5, "available": 0}]
    level = await stock_of(system, sku)
    assert level.reserved == level.on_hand
    assert level.available == 0
    assert first.status == "PREVIEWED"


async def test_a_short_line_reserves_nothing(system: System) -> None:
    before = await system.levels()
    with pytest.raises(InsufficientStock) as raised:
        await system.preview("fridge-1", [line("BRD-001", 2), line("BRD-002", 999)])
    assert raised.value.extra["shortages"][0]["sku"] == "BRD-002"
    assert await system.levels() == before


async def test_cancel_releases_and_a_cancelled_order_cannot_be_confirmed(system: System) -> None:
    preview = await system.preview("fridge-1", [line("PRO-001", 4)])
    assert (await stock_of(system, "PRO-001")).reserved == 4
    cancelled = await system.cancel(preview.order_id, "fridge-1")
    assert cancelled.status == "CANCELLED"
    assert (await stock_of(system, "PRO-001")).reserved == 0
    with pytest.raises(Conflict):
        await system.confirm(preview.order_id, "fridge-1")
    again = await system.cancel(preview.order_id, "fridge-1")  # says what it is, again
    assert again.status == "CANCELLED"
    assert (await system.get_order(preview.order_id)).status == "CANCELLED"


async def test_another_devices_order_is_not_found(system: System) -> None:
    preview = await system.preview("fridge-1", [line("PRO-001", 1)])
    for call in (system.confirm, system.cancel, system.get_order):
        with pytest.raises(NotFound):
            await call(preview.order_id, "fridge-2")
    assert (await system.get_order(preview.order_id, "fridge-1")).status == "PREVIEWED"


async def test_restock_grows_stock_and_reprices(system: System) -> None:
    before = await stock_of(system, "DAI-002")
    restock = await system.restock("truck-1", [line("DAI-002", 50, "2.00")])
    assert (restock.status, restock.total) == ("PROCESSING", 10000)
    done = (await wait_final(system, [], restocks=[restock.order_id]))[restock.order_id]
    assert done.status == "COMPLETED"
    assert done.kind == "RESTOCK"
    after = await stock_of(system, "DAI-002")
    assert after.on_hand == before.on_hand + 50
    assert after.unit_cost == 200
    assert after.price != before.price
    moves, _ = await system.movements(sku="DAI-002", movement_type="IN")
    assert [(m.delta, m.ref) for m in moves] == [(50, restock.order_id)]


@pytest.mark.parametrize(
    "items",
    [
        [],
        [line("NOPE-1", 1)],
        [line("BRD-001", 0)],
        [line("BRD-001", -3)],
        [line("BRD-001", 1001)],
        [line("BRD-001", 600), line("BRD-001", 600)],
        [line(" ", 1)],
        [line("BRD-001", 1)] * 101,
    ],
)
async def test_bad_orders_are_refused_and_change_nothing(
    system: System, items: list[LineRequest]
) -> None:
    """What a line's type cannot say (the API's bodies refuse the rest: tests/api)."""
    before = await system.levels()
    with pytest.raises(ValidationError) as raised:
        await system.preview("fridge-1", items)
    assert raised.value.detail
    assert await system.levels() == before
    assert (await system.list_orders())[0] == []


@pytest.mark.parametrize(
    "items",
    [
        [line("NOPE-1", 1, "1.00")],
        [line("BRD-001", 5)],
        [line("BRD-001", 5, "0.00")],
        [line("BRD-001", 5, "1.00"), line("BRD-001", 5, "1.10")],
        [line("BRD-001", 5, "1.00", "2026-01-01", "2026-02-01")],
    ],
)
async def test_bad_restocks_are_refused_and_change_nothing(
    system: System, items: list[LineRequest]
) -> None:
    before = await system.levels()
    with pytest.raises(ValidationError):
        await system.restock("truck-1", items)
    assert await system.levels() == before
    assert (await system.list_orders(kind=OrderKind.RESTOCK))[0] == []


async def test_listing_pages_newest_first(system: System) -> None:
    ids = [(await system.preview("fridge-1", [line("BRD-003", 1)])).order_id for _ in range(5)]
    await system.preview("fridge-2", [line("BRD-003", 1)])
    page, cursor = await system.list_orders("fridge-1", limit=3)
    assert [o.order_id for o in page] == ids[::-1][:3]
    assert cursor is not None
    rest, end = await system.list_orders("fridge-1", limit=3, cursor=cursor)
    assert [o.order_id for o in rest] == ids[::-1][3:]
    assert end is None
    everyone, _ = await system.list_orders(limit=50)
    assert len(everyone) == 6
    with pytest.raises(ValidationError):
        await system.list_orders(status="SHIPPED")


async def test_a_retry_under_its_key_gets_its_order_even_when_it_holds_all_the_stock(
    system: System,
) -> None:
    """The store knows a preview by its key before it looks at stock: a retry that
    reaches it (two API processes, or a caller past the API) gets the first order, even
    though that order now holds every unit there is (it was refused as short of stock)."""
    on_hand = (await stock_of(system, "BRD-001")).on_hand
    key = RequestKey("all-of-it", "digest-1", "fridge-1")
    first = await system.preview("fridge-1", [line("BRD-001", on_hand)], key)
    again = await system.preview("fridge-1", [line("BRD-001", on_hand)], key)
    assert again.order_id == first.order_id
    bread = await stock_of(system, "BRD-001")
    assert (bread.on_hand, bread.reserved) == (on_hand, on_hand)
    another = RequestKey("one-more", "d-2", "fridge-1")
    with pytest.raises(InsufficientStock):  # another key is another order: none left
        await system.preview("fridge-1", [line("BRD-001", 1)], another)

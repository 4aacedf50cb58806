"""The head office's reports at a chain's size: the stock list pages through the SKUs
that stores reported and that catalog versions named, merged in order, on both
backends, by index (no pass over every store's rows: SQLite's plans say so); a store's
units are its heartbeat's, never a sum of its levels."""

from __future__ import annotations

import time

from autogrocery.central import queries as q
from autogrocery.central.readmodel import Arrival
from autogrocery.central.sql_model import SqlReadModel
from autogrocery.chain.protocol import Facts, Level, UpEvent


def levels(model: SqlReadModel, store: str, seq: int, facts: Facts) -> None:
    event = UpEvent(store, seq, "stock", time.time(), facts)
    model.apply([Arrival(store, f"UP_{store}_1", seq, time.time(), event)])


async def test_the_stock_list_pages_through_reported_and_named_skus(
    bare_model: SqlReadModel,
) -> None:
    model = bare_model
    for store in ("north", "south"):
        model.enroll(store, "hash", rotate=False, now=0.0)
    levels(model, "north", 1, Facts(levels=[Level(s, 5, 0) for s in ("B", "D", "F")]))
    levels(model, "south", 1, Facts(levels=[Level(s, 7, 1) for s in ("B", "C")]))
    conn = model._conn()
    conn.execute("INSERT INTO catalog_skus (sku, version) VALUES ('A', 1), ('D', 1), ('E', 1)")
    pages, after, more = [], None, True
    while more:
        page, more = await model.stock_page(after, 2)
        pages.append([item.sku for item in page])
        after = page[-1].sku
    assert pages == [["A", "B"], ["C", "D"], ["E", "F"]]
    b = (await model.stock_page("A", 1))[0][0]
    assert [(s.store_id, s.on_hand, s.reserved) for s in b.stores] == [
        ("north", 5, 0),
        ("south", 7, 1),
    ]
    assert (await model.stock_page("E", 1))[0][0].stores[0].on_hand == 5  # F, north's
    assert (await model.stock_page(None, 1))[0][0].stores == []  # A: named, never reported


async def test_a_stock_page_ends_early_when_it_holds_enough_store_levels(
    bare_model: SqlReadModel,
) -> None:
    """At a thousand stores a page of 100 SKUs is 100,000 levels: a page stops before
    `max_levels` (whole SKUs, at least one), and the next page goes on from there; SKUs
    in few stores (or named by the catalog only) do not make a page overshoot."""
    model = bare_model
    stores = [f"s{n:02d}" for n in range(30)]
    wide = [f"K{n:03d}" for n in range(40)]  # in every store
    for n, store in enumerate(stores):
        model.enroll(store, "hash", rotate=False, now=0.0)
        own = [Level(f"J{n:03d}", 1, 0)]  # a SKU of this store alone, before the others
        levels(model, store, 1, Facts(levels=[*own, *(Level(sku, 1, 0) for sku in wide)]))
    conn = model._conn()
    conn.execute("INSERT INTO catalog_skus (sku, version) VALUES ('A-NAMED', 1)")
    pages: list[list[int]] = []
    after, more = None, True
    while more:
        page, more = q.stock_page(conn, after, 100, max_levels=200)
        pages.append([len(item.stores) for item in page])
        after = page[-1].sku
    assert sum(len(p) for p in pages) == 1 + 30 + 40  # every SKU, once
    assert all(sum(p) <= 200 for p in pages), pages  # never past the levels asked
    assert all(sum(p) > 200 - 30 for p in pages[:-1]), pages  # and not far short of them
    one, more = q.stock_page(conn, "J029", 100, max_levels=5)  # a SKU is never cut
    assert [len(item.stores) for item in one] == [30]
    assert more


async def test_a_stores_units_are_its_heartbeats_never_a_sum_of_its_levels(
    bare_model: SqlReadModel,
) -> None:
    """Summing a store's levels was a pass over 5,000-50,000 rows a store on every look
    at the stores list: a store's units are its heartbeat's, null before its first."""
    model = bare_model
    for store in ("north", "south"):
        model.enroll(store, "hash", rotate=False, now=0.0)
    levels(model, "north", 1, Facts(levels=[Level("A", 5, 0), Level("B", 6, 0)]))
    levels(model, "south", 1, Facts(levels=[Level("A", 9, 0)], on_hand_units=1234))
    units = {s.store_id: s.on_hand_units for s in await model.stores()}
    assert units == {"north": None, "south": 1234}


def test_the_report_queries_use_indexes_not_scans(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import zoneinfo

    from autogrocery.central.sql_model import open_read_model

    model = open_read_model("", tmp_path, zoneinfo.ZoneInfo("UTC"))
    try:
        conn = model._conn()

        def plan(sql: str, params: tuple[object, ...]) -> list[str]:
            return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]

        page = plan(q.NEXT_STOCK_SKUS, ("", 100))
        assert not [step for step in page if step.startswith("SCAN stock")], page
        assert any(step.startswith("SEARCH stock USING COVERING INDEX") for step in page)
        named = plan(q.NAMED_SKUS, ("", 100))
        assert not [step for step in named if step.startswith("SCAN catalog_skus")], named
    finally:
        model.close_now()

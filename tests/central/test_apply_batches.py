"""A batch applied at once leaves the read model as the same events applied one by one:
folding (apply_fold.py) changes how many statements a batch costs, never what it
leaves. Random histories (levels, sales, waste, heartbeats, catalogs, a stream's new
epoch, redeliveries, refusals) on both backends."""

from __future__ import annotations

import itertools
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autogrocery.central.readmodel import Arrival, Outcome
from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.central.sqlite_backend import SqliteBackend
from autogrocery.chain.protocol import Facts, Level, Movement, OrderEnd, UpEvent
from tests.postgres import PostgresServer

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")  # days cut at local midnight
STORES = ("north", "south", "east")
DAY0 = 1_760_000_000.0


@st.composite
def histories(draw: st.DrawFn) -> list[Arrival]:
    arrivals = []
    seqs = dict.fromkeys(STORES, 0)
    epochs = dict.fromkeys(STORES, 1)
    for _ in range(draw(st.integers(1, 40))):
        store = draw(st.sampled_from(STORES))
        if draw(st.integers(0, 9)) == 0:
            epochs[store] += 1  # a new epoch's stream
        redelivered = seqs[store] > 0 and draw(st.integers(0, 5)) == 0
        if not redelivered:
            seqs[store] += 1
        seq = seqs[store] if not redelivered else draw(st.integers(1, seqs[store]))
        at = DAY0 + draw(st.integers(0, 4 * 86_400))
        facts = Facts(
            levels=[
                Level(sku, draw(st.integers(0, 50)), draw(st.integers(0, 5)))
                for sku in draw(st.lists(st.sampled_from(["A", "B", "C"]), max_size=3))
            ],
            orders=[OrderEnd(f"o{seq}", "CUSTOMER", "COMPLETED", draw(st.integers(1, 999)), 1, at)]
            if draw(st.booleans())
            else [],
            movements=[Movement("A", "WASTE", -draw(st.integers(1, 3)), None, "l", 40, at)]
            if draw(st.integers(0, 3)) == 0
            else [],
            on_hand_units=draw(st.none() | st.integers(0, 900)),
            catalog_version=draw(st.none() | st.integers(0, 4)),
        )
        event = UpEvent(store, seq, "stock", at, facts)
        stream = f"UP_{store}_{epochs[store]}"
        stream_seq = draw(st.integers(1, 500))
        received = at + draw(st.integers(0, 30))
        if draw(st.integers(0, 15)) == 0:  # not enrolled: refused
            event = UpEvent("west", seq, "stock", at, facts)
        if draw(st.integers(0, 20)) == 0:  # not an event at all, from a store's stream or not
            source = draw(st.sampled_from([store, None]))
            arrivals.append(Arrival(source, stream, stream_seq, received, None, "garbled"))
            continue
        arrivals.append(Arrival(store, stream, stream_seq, received, event))
    overtaken = st.lists(st.integers(0, max(0, len(arrivals) - 2)), max_size=5)
    for n in draw(overtaken) if len(arrivals) > 1 else []:
        # an event overtaken by the next one: a store's sequence out of order
        arrivals[n], arrivals[n + 1] = arrivals[n + 1], arrivals[n]
    return arrivals


def dump(model: SqlReadModel) -> dict[str, Any]:
    conn = model._conn()
    tables = {
        "stores": "SELECT * FROM stores ORDER BY store_id",
        "stock": "SELECT * FROM stock ORDER BY store_id, sku",
        "daily": "SELECT * FROM daily ORDER BY store_id, day",
        "events": "SELECT event_id, seq, at, applied_at FROM events ORDER BY event_id",
        "settings": "SELECT * FROM settings ORDER BY key",
    }
    return {name: [tuple(row) for row in conn.execute(sql)] for name, sql in tables.items()}


@pytest.fixture(params=["sqlite", "sqlite-before-3.35", "postgresql"])
def two_models(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[SqlReadModel]]:
    urls = [""] * 2
    server: PostgresServer | None = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        urls = [server.database(), server.database()]
    models = [open_read_model(url, tmp_path / f"m{n}", ZONE) for n, url in enumerate(urls)]
    if request.param == "sqlite-before-3.35":  # batches written as an older SQLite must
        models[1].close_now()
        models[1] = SqlReadModel(SqliteBackend(tmp_path / "old.db", modern=False), ZONE)
    try:
        yield models
    finally:
        for model in models:
            model.close_now()
        if server is not None:
            for url in urls:
                server.drop(url)


def reset(model: SqlReadModel) -> None:
    conn = model._conn()
    for table in ("events", "stock", "daily", "settings", "stores"):
        conn.execute(f"DELETE FROM {table}")  # noqa: S608
    for store in STORES:
        model.enroll(store, "hash", rotate=False, now=0.0)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), cuts=st.lists(st.integers(1, 40), max_size=6))
def test_a_batch_leaves_what_its_events_one_by_one_leave(
    two_models: list[SqlReadModel], history: list[Arrival], cuts: list[int]
) -> None:
    one_by_one, batched = two_models
    reset(one_by_one)
    reset(batched)
    singles = [one_by_one.apply([arrival]) for arrival in history]
    bounds = sorted({0, len(history), *(c for c in cuts if c < len(history))})
    batches = [batched.apply(history[start:end]) for start, end in itertools.pairwise(bounds)]
    assert dump(batched) == dump(one_by_one)
    assert totals(batches) == totals(singles)


def totals(outcomes: list[Outcome]) -> tuple[int, int, int, set[str]]:
    return (
        sum(o.applied for o in outcomes),
        sum(o.duplicates for o in outcomes),
        sum(o.refused for o in outcomes),
        set().union(*(o.stores for o in outcomes)),
    )

"""What the head office owes its stores is read for all of them at once, in a handful of
statements: the sender's look once asked each enrolled store in turn (four statements
a store), after every applied batch, which at a thousand stores was most of the head
office's work. Both backends, a real database each."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import msgspec

from autogrocery.central import outgoing
from autogrocery.central.readmodel import Arrival, Down
from autogrocery.central.sql_model import SqlReadModel
from autogrocery.central.sqlconn import Conn, Cursor, Params
from autogrocery.chain.protocol import (
    CatalogProduct,
    Facts,
    Hwm,
    Level,
    Ship,
    TransferItem,
    UpEvent,
)

STORES = [f"s{n:04d}" for n in range(300)]


class Counting:
    """A connection that counts the statements run on it."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.statements = 0

    def execute(self, sql: str, params: Params = (), /) -> Cursor:
        self.statements += 1
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params], /) -> Any:
        self.statements += 1
        return self.conn.executemany(sql, rows)

    def close(self) -> None:
        self.conn.close()


def stock_event(store: str, seq: int) -> Arrival:
    event = UpEvent(store, seq, "stock", time.time(), Facts(levels=[Level("BRD-001", 9, 0)]))
    return Arrival(store, f"UP_{store}_1", seq, time.time(), event)


def look(model: SqlReadModel) -> tuple[list[Down], int]:
    counting = Counting(model._conn())
    return outgoing.due(counting, time.time()), counting.statements


async def test_one_look_costs_the_same_at_300_stores_and_keeps_each_stores_order(
    bare_model: SqlReadModel,
) -> None:
    model = bare_model
    for store in STORES:
        model.enroll(store, "x", rotate=False, now=0.0)
    model.apply([stock_event(STORES[1], 1), stock_event(STORES[1], 2), stock_event(STORES[7], 1)])
    transfer = await model.create_transfer(
        STORES[1], STORES[2], [TransferItem("BRD-001", 3)], "ops", time.time()
    )
    for price in (100, 110):
        await model.publish_catalog([CatalogProduct("BRD-001", price=price)], "ops", time.time())

    due, statements = look(model)
    assert statements <= 6  # kinds, one transfer, one catalog version: never per store
    assert [(d.kind, d.key) for d in due if d.store_id == STORES[1]] == [
        ("hwm", 2),
        ("ship", transfer.transfer_id),
        ("catalog", 1),  # one version at a time
    ]
    assert msgspec.json.decode(due[0].body, type=Hwm).hwm == 2
    ship = next(d for d in due if d.kind == "ship")
    assert msgspec.json.decode(ship.body, type=Ship).to_store == STORES[2]
    assert {d.store_id for d in due if d.kind == "hwm"} == {STORES[1], STORES[7]}
    assert sorted(d.store_id for d in due if d.kind == "catalog") == STORES

    for down in due:
        if down.store_id != STORES[5]:
            model.delivered(down)
    due, statements = look(model)
    assert statements <= 6
    assert [(d.store_id, d.kind, d.key) for d in due if d.store_id == STORES[5]] == [
        (STORES[5], "catalog", 1)
    ]
    assert {d.key for d in due if d.store_id != STORES[5]} == {2}  # the next version
    assert len(due) == len(STORES)

    for down in due:
        model.delivered(down)
    due, _ = look(model)
    assert [(d.store_id, d.key) for d in due] == [(STORES[5], 2)]
    model.delivered(due[0])
    assert look(model)[0] == []

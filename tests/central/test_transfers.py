"""Transfers: the head office asks, the sending store's leaf gets `ship`, its shipment
comes back up, the receiving store's leaf gets `receive` with the shipped lots, its
receipt comes back up: REQUESTED → SHIPPED → RECEIVED, or REFUSED with the reason."""

from __future__ import annotations

import time
from typing import Any

from autogrocery.chain.protocol import (
    Facts,
    Level,
    OrderEnd,
    Receipt,
    ReceiptLine,
    Receive,
    Ship,
    ShipLine,
    Shipment,
    TransferItem,
)
from tests.central.conftest import Central
from tests.central.leaf import Leaf
from tests.waiting import eventually

BREAD, MILK = "BRD-001", "DAI-002"


async def stores_with_stock(central: Central) -> tuple[Leaf, Leaf]:
    north = await central.leaf("north")
    south = await central.leaf("south")
    await north.publish(Facts(levels=[Level(BREAD, 20, 0), Level(MILK, 5, 0)]))
    await south.publish(Facts(levels=[Level(BREAD, 1, 0)]))

    async def known() -> bool:
        status, _ = await central.call("GET", f"/api/chain/stock?sku={MILK}")
        return status == 200

    await eventually(known, within=15, every=0.05)
    return north, south


async def request(central: Central, **body: Any) -> tuple[int, Any]:
    payload = {"from_store": "north", "to_store": "south", "items": [{"sku": BREAD, "quantity": 3}]}
    return await central.call("POST", "/api/chain/transfers", json=payload | body)


async def status_of(central: Central, transfer_id: str, wanted: str) -> dict[str, Any]:
    async def check() -> dict[str, Any]:
        _, body = await central.call("GET", f"/api/chain/transfers/{transfer_id}")
        return body if body["status"] == wanted else {}

    return dict(await eventually(check, within=15, every=0.05))


async def down(leaf: Leaf, subject: str) -> Any:
    async def check() -> Any:
        return (await leaf.received()).get(subject)

    return await eventually(check, within=15, every=0.05)


async def test_requested_shipped_received(central: Central) -> None:
    north, south = await stores_with_stock(central)
    status, made = await request(
        central,
        items=[
            {"sku": BREAD, "quantity": 2},
            {"sku": MILK, "quantity": 1},
            {"sku": BREAD, "quantity": 1},
        ],
    )
    assert status == 201, made
    tid = made["transfer_id"]
    assert made["status"] == "REQUESTED"
    assert made["items"] == [
        {"sku": BREAD, "requested": 3, "shipped": None, "received": None},
        {"sku": MILK, "requested": 1, "shipped": None, "received": None},
    ]
    ship = await down(north, f"chain.down.north.ship.{tid}")
    assert ship == Ship(tid, "south", [TransferItem(BREAD, 3), TransferItem(MILK, 1)])
    # North's robots picked it: two lots of bread, one of milk (dated, with its cost).
    lines = [
        ShipLine(BREAD, 2, 80),
        ShipLine(BREAD, 1, 85),
        ShipLine(MILK, 1, 120, expiry_date="2026-12-20", mfd_date="2026-12-01"),
    ]
    await north.publish(
        Facts(
            levels=[Level(BREAD, 17, 0), Level(MILK, 4, 0)],
            shipments=[Shipment(tid, "south", lines)],
            orders=[
                OrderEnd("ord-t1", "TRANSFER_OUT", "COMPLETED", 0, 2, time.time(), transfer_id=tid)
            ],
        )
    )
    shipped = await status_of(central, tid, "SHIPPED")
    assert shipped["shipped_at"] is not None
    assert [i["shipped"] for i in shipped["items"]] == [3, 1]
    receive = await down(south, f"chain.down.south.receive.{tid}")
    assert receive == Receive(tid, "north", lines)  # the lots travel as they were shipped
    assert f"chain.down.north.receive.{tid}" not in await north.received()
    await south.publish(
        Facts(
            levels=[Level(BREAD, 4, 0), Level(MILK, 1, 0)],
            receipts=[Receipt(tid, "north", [ReceiptLine(BREAD, 3), ReceiptLine(MILK, 1)])],
        )
    )
    received = await status_of(central, tid, "RECEIVED")
    assert received["discrepancy"] is None
    assert received["reason"] is None
    assert [(i["requested"], i["shipped"], i["received"]) for i in received["items"]] == [
        (3, 3, 3),
        (1, 1, 1),
    ]
    _, stock = await central.call("GET", f"/api/chain/stock?sku={BREAD}")
    assert {s["store_id"]: s["on_hand"] for s in stock["stores"]} == {"north": 17, "south": 4}
    _, listed = await central.call("GET", "/api/chain/transfers?status=RECEIVED")
    assert [t["transfer_id"] for t in listed["transfers"]] == [tid]
    _, metrics = await central.call("GET", "/metrics", auth=False)
    assert b'autogrocery_chain_transfers{status="RECEIVED"} 1.0' in metrics


async def test_refused_with_the_reason_when_the_sender_lacks_free_stock(central: Central) -> None:
    north, south = await stores_with_stock(central)
    _, made = await request(central, items=[{"sku": MILK, "quantity": 50}])
    tid = made["transfer_id"]
    await down(north, f"chain.down.north.ship.{tid}")
    reason = f"not enough free stock: {MILK} (50 asked, 5 free)"
    await north.publish(
        Facts(
            orders=[
                OrderEnd(
                    "ord-t2",
                    "TRANSFER_OUT",
                    "FAILED",
                    0,
                    1,
                    time.time(),
                    reason=reason,
                    transfer_id=tid,
                )
            ]
        ),
        kind="orders",
    )
    refused = await status_of(central, tid, "REFUSED")
    assert refused["reason"] == reason
    assert refused["shipped_at"] is None
    # Nothing travels: the receiving store is never asked to receive it.
    await south.publish(Facts(on_hand_units=1), kind="heartbeat")
    await eventually(lambda: _applied(central, "south", 2), within=15, every=0.05)
    assert not any(".receive." in subject for subject in await south.received())


async def test_a_received_quantity_that_differs_is_a_discrepancy(central: Central) -> None:
    north, south = await stores_with_stock(central)
    _, made = await request(central)
    tid = made["transfer_id"]
    await down(north, f"chain.down.north.ship.{tid}")
    await north.publish(Facts(shipments=[Shipment(tid, "south", [ShipLine(BREAD, 3, 80)])]))
    await down(south, f"chain.down.south.receive.{tid}")
    await south.publish(Facts(receipts=[Receipt(tid, "north", [ReceiptLine(BREAD, 2)])]))
    received = await status_of(central, tid, "RECEIVED")
    assert received["discrepancy"] == [{"sku": BREAD, "shipped": 3, "received": 2}]


async def test_a_store_that_was_down_gets_its_transfer_when_back(central: Central) -> None:
    north, _ = await stores_with_stock(central)
    await north.down()
    _, made = await request(central)
    tid = made["transfer_id"]
    await north.up()  # same data dir: its streams, its DOWN_ stream, come back
    ship = await down(north, f"chain.down.north.ship.{tid}")
    assert ship.transfer_id == tid
    # Its shipment, published after it came back, moves the transfer on once.
    await north.publish(Facts(shipments=[Shipment(tid, "south", [ShipLine(BREAD, 3, 80)])]))
    await status_of(central, tid, "SHIPPED")


async def test_bad_requests_and_idempotency(central: Central) -> None:
    await stores_with_stock(central)
    for body, field in (
        ({"to_store": "nowhere"}, "to_store"),
        ({"from_store": "ghost"}, "from_store"),
        ({"to_store": "north"}, "to_store"),
        ({"items": [{"sku": "NOPE-1", "quantity": 1}]}, "items[0].sku"),
        ({"items": [{"sku": BREAD, "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"sku": BREAD, "quantity": 1001}]}, "items[0].quantity"),
        ({"items": []}, "items"),
        ({"from_store": "bad id!"}, "from_store"),
    ):
        status, problem = await request(central, **body)
        assert status == 400, (body, problem)
        assert problem["errors"][0]["field"] == field, problem
    key = {"Idempotency-Key": "transfer-1"}
    payload = {"from_store": "north", "to_store": "south", "items": [{"sku": BREAD, "quantity": 2}]}
    first = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    again = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert first[0] == again[0] == 201
    assert first[1]["transfer_id"] == again[1]["transfer_id"]
    _, listed = await central.call("GET", "/api/chain/transfers")
    assert len(listed["transfers"]) == 1
    payload["items"][0]["quantity"] = 3
    status, _ = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert status == 422
    status, _ = await central.call("GET", "/api/chain/transfers/trf_nope")
    assert status == 404


async def test_transfers_page_newest_first(central: Central) -> None:
    await stores_with_stock(central)
    made = [(await request(central))[1]["transfer_id"] for _ in range(5)]
    seen: list[str] = []
    cursor = ""
    while True:
        _, page = await central.call("GET", f"/api/chain/transfers?limit=2&cursor={cursor}")
        seen += [t["transfer_id"] for t in page["transfers"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == made[::-1]
    for query in ("status=LOST", "limit=0", "limit=201", "cursor=abc"):
        status, _ = await central.call("GET", f"/api/chain/transfers?{query}")
        assert status == 400, query


async def _applied(central: Central, store: str, count: int) -> bool:
    return (await central.stats(store))["events_applied"] >= count

"""Operators: inventory, products, adjustments, the ledger, robots, analytics, alerts."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.helpers import analytics_settled, wait_final
from tests.waiting import eventually


async def test_inventory_and_catalog_agree(api: Api) -> None:
    operator, device = await api.operator(), await api.device()
    status, inventory, _ = await api.call("GET", "/api/ops/inventory", operator)
    assert status == 200
    assert len(inventory["items"]) >= 40
    item = inventory["items"][0]
    assert set(item) == {
        "sku",
        "name",
        "aisle",
        "on_hand",
        "reserved",
        "expired",
        "available",
        "min_level",
        "price",
        "unit_cost",
    }
    status, catalog, _ = await api.call("GET", "/api/catalog", device)
    assert status == 200
    by_sku = {i["sku"]: i for i in catalog["items"]}
    assert by_sku[item["sku"]]["available"] == item["available"]
    assert by_sku[item["sku"]]["price"] == item["price"]
    assert (await api.call("GET", "/api/catalog", {}))[0] == 401


async def test_products_can_be_added_and_changed(api: Api) -> None:
    operator, device = await api.operator(), await api.device()
    product = {
        "sku": "BRD-900",
        "name": "Rye loaf",
        "aisle": "bread",
        "unit": "loaf",
        "price": "3.10",
        "unit_cost": "2.00",
        "min_level": 5,
        "on_hand": 40,
    }
    status, created, _ = await api.call("POST", "/api/ops/products", operator, json=product)
    assert status == 201
    assert (created["on_hand"], created["price"], created["available"]) == (40, "3.10", 40)
    assert (await api.call("POST", "/api/ops/products", operator, json=product))[0] == 409
    status, _, _ = await api.call(
        "POST", "/api/ops/products", operator, json={**product, "sku": "X-1", "aisle": "garden"}
    )
    assert status == 400
    status, patched, _ = await api.call(
        "PATCH", "/api/ops/products/BRD-900", operator, json={"price": "3.50", "min_level": 50}
    )
    assert status == 200
    assert patched["price"] == "3.50"
    assert patched["min_level"] == 50
    _, alerts, _ = await api.call("GET", "/api/ops/alerts", operator)
    assert "BRD-900" in [a["sku"] for a in alerts["alerts"]]
    assert (await api.call("PATCH", "/api/ops/products/NOPE", operator, json={"price": "1.00"}))[
        0
    ] == 404
    assert (await api.call("PATCH", "/api/ops/products/BRD-900", operator, json={}))[0] == 400
    assert (await api.call("PATCH", "/api/ops/products/BRD-900", operator, json={"price": "-1"}))[
        0
    ] == 400
    status, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "BRD-900", "quantity": 2}]}
    )
    assert status == 201
    assert preview["total"] == "7.00"


async def test_adjustments_are_ledgered_and_bounded_by_reservations(api: Api) -> None:
    operator, device = await api.operator(), await api.device()
    await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "MEA-001", "quantity": 10}]}
    )
    status, level, _ = await api.call(
        "POST",
        "/api/ops/stock/MEA-001/adjust",
        operator,
        json={"delta": -3, "reason": "WASTE", "note": "torn packs"},
    )
    assert status == 200
    assert level["reserved"] == 10
    before = await api.snapshot()
    status, body, _ = await api.call(
        "POST",
        "/api/ops/stock/MEA-001/adjust",
        operator,
        json={"delta": -(level["on_hand"] - 9), "reason": "COUNT"},
    )
    assert status == 409
    assert "reserved" in body["detail"]
    for bad in (
        {"delta": 1, "reason": "THEFT"},
        {"delta": "1", "reason": "ADJUST"},
        {"delta": 0, "reason": "ADJUST"},
        {"reason": "ADJUST"},
    ):
        assert (await api.call("POST", "/api/ops/stock/MEA-001/adjust", operator, json=bad))[
            0
        ] == 400, bad
    assert (
        await api.call(
            "POST", "/api/ops/stock/NOPE/adjust", operator, json={"delta": 1, "reason": "ADJUST"}
        )
    )[0] == 404
    assert await api.snapshot() == before
    status, ledger, _ = await api.call("GET", "/api/ops/movements?sku=MEA-001&limit=1", operator)
    assert [(m["type"], m["delta"], m["ref"], m["user"]) for m in ledger["movements"]] == [
        ("WASTE", -3, "torn packs", "admin")
    ]
    assert ledger["next_cursor"] is not None
    status, rest, _ = await api.call(
        "GET", f"/api/ops/movements?sku=MEA-001&cursor={ledger['next_cursor']}", operator
    )
    total = sum(m["delta"] for m in ledger["movements"] + rest["movements"])
    assert total == level["on_hand"]
    assert (await api.call("GET", "/api/ops/movements?type=LOST", operator))[0] == 400
    assert (await api.call("GET", "/api/ops/movements?limit=x", operator))[0] == 400


async def test_robots_and_analytics_views(api: Api) -> None:
    operator, device = await api.operator(), await api.device()
    _, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "PRO-001", "quantity": 1}]}
    )
    await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device)
    await wait_final(api.system, [preview["order_id"]])
    await eventually(lambda: analytics_settled(api.system), within=10)
    status, robots, _ = await api.call("GET", "/api/ops/robots", operator)
    assert status == 200
    assert {r["aisle"] for r in robots["robots"]} == {
        "bread",
        "meat",
        "produce",
        "dairy",
        "party",
    }
    assert {r["state"] for r in robots["robots"]} <= {"idle", "busy"}
    produce = next(r for r in robots["robots"] if r["aisle"] == "produce")
    assert produce["tasks_done"] == 1
    assert produce["last_seen"].endswith("Z")
    status, analytics, _ = await api.call("GET", "/api/ops/analytics", operator)
    assert analytics["customer"]["completed"] == 1
    assert set(analytics["customer"]["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert analytics["restock"]["completed"] == 0


@pytest.mark.parametrize("sku", ["../x", "a/b", "x y", ".hidden", "", "x" * 65, "ünï"])
async def test_a_sku_outside_its_grammar_is_refused_and_nothing_is_added(
    api: Api, sku: str
) -> None:
    operator = await api.operator()
    before = await api.snapshot()
    body = {
        "sku": sku,
        "name": "Odd",
        "aisle": "bread",
        "unit": "loaf",
        "price": "1.00",
        "unit_cost": "0.50",
        "min_level": 1,
    }
    status, problem, _ = await api.call("POST", "/api/ops/products", operator, json=body)
    assert status == 400
    assert problem["errors"][0]["field"] == "sku"
    assert await api.snapshot() == before

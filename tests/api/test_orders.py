"""Customer orders and truck restocks over HTTP: shapes, roles, idempotency, bad input."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from autogrocery.api.state import STATE
from tests.api.conftest import Api, ApiFactory
from tests.api.test_live import next_event
from tests.helpers import wait_final

ITEMS = [{"sku": "BRD-001", "quantity": 2}, {"sku": "DAI-001", "quantity": 1}]


async def test_preview_confirm_complete_and_read(api: Api) -> None:
    device = await api.device()
    status, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": ITEMS}
    )
    assert status == 201
    assert preview["status"] == "PREVIEWED"
    assert preview["expires_at"]
    assert {ln["sku"]: ln["unit_price"] for ln in preview["items"]} == {
        "BRD-001": "4.20",
        "DAI-001": "1.25",
    }
    assert preview["total"] == "9.65"
    order_id = preview["order_id"]
    status, body, _ = await api.call("POST", f"/api/orders/{order_id}/confirm", device)
    assert (status, body) == (202, {"order_id": order_id, "status": "PROCESSING"})
    await wait_final(api.system, [order_id])
    status, body, _ = await api.call("POST", f"/api/orders/{order_id}/confirm", device)
    assert (status, body["status"]) == (200, "COMPLETED")
    status, order, _ = await api.call("GET", f"/api/orders/{order_id}", device)
    assert status == 200
    assert order["status"] == "COMPLETED"
    assert order["kind"] == "CUSTOMER"
    assert order["total"] == preview["total"]
    assert order["latency_ms"] >= 0
    for key in ("created_at", "confirmed_at", "completed_at"):
        assert order[key].endswith("Z")
    status, listing, _ = await api.call("GET", "/api/orders?status=COMPLETED&limit=5", device)
    assert [o["order_id"] for o in listing["orders"]] == [order_id]
    assert listing["next_cursor"] is None
    status, history, _ = await api.call("GET", f"/api/orders/{order_id}/history", device)
    assert [h["status"] for h in history["history"]] == ["PREVIEWED", "PROCESSING", "COMPLETED"]


async def test_cancel_then_confirm_is_a_conflict(api: Api) -> None:
    device = await api.device()
    _, preview, _ = await api.call("POST", "/api/orders/preview", device, json={"items": ITEMS})
    order_id = preview["order_id"]
    status, body, _ = await api.call("POST", f"/api/orders/{order_id}/cancel", device)
    assert (status, body["status"]) == (200, "CANCELLED")
    status, body, response = await api.call("POST", f"/api/orders/{order_id}/confirm", device)
    assert status == 409
    assert response.content_type == "application/problem+json"
    status, body, _ = await api.call("POST", f"/api/orders/{order_id}/cancel", device)
    assert (status, body) == (200, {"order_id": order_id, "status": "CANCELLED"})


async def test_a_processing_order_is_cancelled_and_its_device_hears_of_it(
    make_api: ApiFactory,
) -> None:
    api = await make_api("robots.per_aisle=1", "robots.pick_time=0.02")
    device, operator = await api.device(), await api.operator()
    async with api.client.ws_connect("/api/events", headers=device) as ws:
        _, preview, _ = await api.call(
            "POST",
            "/api/orders/preview",
            device,
            json={"items": [{"sku": "MEA-001", "quantity": 100}]},
        )  # 2 s of picking
        order_id = preview["order_id"]
        await api.call("POST", f"/api/orders/{order_id}/confirm", device)
        status, body, _ = await api.call("POST", f"/api/orders/{order_id}/cancel", device)
        assert (status, body) == (200, {"order_id": order_id, "status": "CANCELLED"})
        seen = []
        while not seen or seen[-1] != "CANCELLED":
            event = await next_event(ws, contract=api.contract)
            assert event["data"]["order_id"] == order_id
            seen.append(event["data"]["status"])
        assert seen == ["PREVIEWED", "PROCESSING", "CANCELLED"]
    _, order, _ = await api.call("GET", f"/api/orders/{order_id}", device)
    assert (order["status"], order["completed_at"]) == ("CANCELLED", None)
    _, analytics, _ = await api.call("GET", "/api/ops/analytics", operator)
    assert analytics["customer"]["cancelled"] == 1
    # an operator may cancel any order; a finished one is a conflict for everybody
    _, other, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "BRD-001", "quantity": 1}]}
    )
    await api.call("POST", f"/api/orders/{other['order_id']}/confirm", device)
    await wait_final(api.system, [other["order_id"]])
    for caller in (device, operator):
        status, problem, _ = await api.call(
            "POST", f"/api/orders/{other['order_id']}/cancel", caller
        )
        assert status == 409
        assert "COMPLETED" in problem["detail"]


async def test_short_stock_is_409_with_shortages_and_reserves_nothing(api: Api) -> None:
    device = await api.device()
    before = await api.snapshot()
    status, body, _ = await api.call(
        "POST",
        "/api/orders/preview",
        device,
        json={"items": [{"sku": "BRD-001", "quantity": 1}, {"sku": "PAR-001", "quantity": 1000}]},
    )
    assert status == 409
    assert body["shortages"] == [
        {"sku": "PAR-001", "requested": 1000, "available": body["shortages"][0]["available"]}
    ]
    assert await api.snapshot() == before


async def test_roles_and_ownership(api: Api) -> None:
    mine, other = await api.device("fridge-1"), await api.device("fridge-2")
    operator, truck = await api.operator(), await api.truck()
    _, preview, _ = await api.call("POST", "/api/orders/preview", mine, json={"items": ITEMS})
    order_id = preview["order_id"]
    for path in (f"/api/orders/{order_id}", f"/api/orders/{order_id}/history"):
        assert (await api.call("GET", path, other))[0] == 404
        assert (await api.call("GET", path, operator))[0] == 200
        assert (await api.call("GET", path, truck))[0] == 403
    for action in ("confirm", "cancel"):
        assert (await api.call("POST", f"/api/orders/{order_id}/{action}", other))[0] == 404
    assert (await api.call("GET", "/api/orders", other))[1]["orders"] == []
    assert len((await api.call("GET", "/api/orders", operator))[1]["orders"]) == 1
    for caller in (operator, truck):
        status, _, _ = await api.call("POST", "/api/orders/preview", caller, json={"items": ITEMS})
        assert status == 403
    assert (await api.call("POST", "/api/restocks", mine, json={"items": []}))[0] == 403
    for path in (
        "/api/ops/inventory",
        "/api/ops/movements",
        "/api/ops/robots",
        "/api/ops/analytics",
        "/api/ops/alerts",
    ):
        assert (await api.call("GET", path, mine))[0] == 403
        assert (await api.call("GET", path, truck))[0] == 403
    status, _, _ = await api.call("GET", f"/api/orders/{order_id}", {})
    assert status == 401


async def test_idempotency_key_replays_and_rejects_a_different_body(api: Api) -> None:
    device = await api.device()
    key = {"Idempotency-Key": "fridge-1/order/42", **device}
    first = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    again = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    assert first[0] == again[0] == 201
    assert first[1] == again[1]
    assert again[2].headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first[2].headers
    assert len((await api.call("GET", "/api/orders", device))[1]["orders"]) == 1
    with sqlite3.connect(api.config.data_path / "autogrocery.db") as conn:
        noted = conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0]
    assert noted == 0, "the order carries its key: it is the request's one record"
    before = await api.snapshot()
    status, body, _ = await api.call(
        "POST", "/api/orders/preview", key, json={"items": [{"sku": "BRD-001", "quantity": 3}]}
    )
    assert status == 422
    assert body["status"] == 422
    assert await api.snapshot() == before
    order_id = first[1]["order_id"]
    confirm_key = {"Idempotency-Key": "confirm-1", **device}
    one = await api.call("POST", f"/api/orders/{order_id}/confirm", confirm_key)
    two = await api.call("POST", f"/api/orders/{order_id}/confirm", confirm_key)
    assert one[0] == two[0] == 202
    assert one[1] == two[1]
    bad = await api.call(
        "POST", "/api/orders/preview", {"Idempotency-Key": "é", **device}, json={"items": ITEMS}
    )
    assert bad[0] == 400


async def test_a_refused_delivery_is_answered_again_under_its_key(api: Api) -> None:
    """A delivery refused for a day that does not exist: its key replays the refusal,
    and the same key for a corrected delivery is 422, not a second delivery."""
    truck = await api.truck()
    key = {"Idempotency-Key": "manifest-30-feb", **truck}
    line = {"sku": "BRD-001", "quantity": 5, "unit_cost": "1.00", "expiry_date": "2099-02-30"}
    before = await api.snapshot()
    first = await api.call("POST", "/api/restocks", key, json={"items": [line]})
    again = await api.call("POST", "/api/restocks", key, json={"items": [line]})
    assert first[0] == again[0] == 400
    assert first[1]["errors"] == [
        {"field": "items[0].expiry_date", "message": "must be a date like 2026-11-30"}
    ]
    assert again[1] == first[1]
    assert again[2].headers["Idempotent-Replayed"] == "true"
    corrected = {**line, "expiry_date": "2099-02-28"}
    status, _, _ = await api.call("POST", "/api/restocks", key, json={"items": [corrected]})
    assert status == 422
    assert await api.snapshot() == before


async def test_a_delivery_with_too_many_lines_says_so_first(api: Api) -> None:
    truck = await api.truck()
    lines = [{"sku": "BRD-001", "quantity": 1, "unit_cost": "1.00"}] * 101
    lines[0] = {**lines[0], "expiry_date": "2099-02-30"}
    status, problem, _ = await api.call("POST", "/api/restocks", truck, json={"items": lines})
    assert status == 400
    assert problem["detail"] == "at most 100 lines per order"


async def test_an_answer_that_cannot_be_remembered_still_tells_the_truth(api: Api) -> None:
    """The effect happened; only the API's note of its answer failed (a full disk). An
    order or a restock needs no note: it carries its key, stored in its own commit."""
    tables = api.client.app[STATE].tables
    remember = tables.remember
    failing = True
    noted: list[object] = []

    async def flaky(*args: object) -> None:
        noted.append(args[2])  # the route
        if failing:
            raise sqlite3.OperationalError("database or disk is full")
        await remember(*args)

    tables.remember = flaky
    device, truck = await api.device(), await api.truck()
    key = {"Idempotency-Key": "order-7", **device}
    first = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    assert first[0] == 201
    confirm_key = {"Idempotency-Key": "confirm-7", **device}
    order_id = first[1]["order_id"]
    confirmed = await api.call("POST", f"/api/orders/{order_id}/confirm", confirm_key)
    assert confirmed[0] == 202
    restock_key = {"Idempotency-Key": "manifest-7", **truck}
    manifest = {"items": [{"sku": "BRD-001", "quantity": 5, "unit_cost": "1.00"}]}
    shelved = await api.call("POST", "/api/restocks", restock_key, json=manifest)
    assert shelved[0] == 202
    assert noted == [f"POST /api/orders/{order_id}/confirm"]
    failing = False
    again = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    assert (again[0], again[1]["order_id"]) == (201, order_id)  # the same order, once
    assert len((await api.call("GET", "/api/orders", device))[1]["orders"]) == 1
    again = await api.call("POST", f"/api/orders/{order_id}/confirm", confirm_key)
    assert again[0] == 200  # confirmed before: nothing dispatched again
    assert again[1]["status"] in ("PROCESSING", "COMPLETED")
    again = await api.call("POST", "/api/restocks", restock_key, json=manifest)
    assert again[1]["restock_id"] == shelved[1]["restock_id"]
    assert len((await api.call("GET", "/api/restocks", truck))[1]["restocks"]) == 1


async def test_concurrent_retries_with_one_key_create_one_order(api: Api) -> None:
    device = await api.device()
    key = {"Idempotency-Key": "burst", **device}
    results = await asyncio.gather(
        *(api.call("POST", "/api/orders/preview", key, json={"items": ITEMS}) for _ in range(8))
    )
    assert {r[1]["order_id"] for r in results} == {results[0][1]["order_id"]}
    assert len((await api.call("GET", "/api/orders", device))[1]["orders"]) == 1


async def test_idempotency_keys_survive_a_restart(make_api: ApiFactory) -> None:
    api = await make_api()
    device = await api.device()
    key = {"Idempotency-Key": "across-restarts", **device}
    first = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    await api.client.close()
    await api.system.stop()
    again_api = await make_api(config=api.config)
    again = await again_api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    assert again[0] == 201
    assert again[1] == first[1]
    assert again[2].headers["Idempotent-Replayed"] == "true"


BAD_BODIES = [
    ("not json", b"{items: [", "application/json", 400),
    ("array body", b"[]", "application/json", 400),
    ("null body", b"null", "application/json", 400),
    ("empty body", b"", "application/json", 400),
    ("missing items", b"{}", "application/json", 400),
    (
        "extra field",
        b'{"items": [{"sku": "BRD-001", "quantity": 1}], "x": 1}',
        "application/json",
        400,
    ),
    ("items not a list", b'{"items": "BRD-001"}', "application/json", 400),
    ("empty items", b'{"items": []}', "application/json", 400),
    ("zero", b'{"items": [{"sku": "BRD-001", "quantity": 0}]}', "application/json", 400),
    ("negative", b'{"items": [{"sku": "BRD-001", "quantity": -1}]}', "application/json", 400),
    ("huge", b'{"items": [{"sku": "BRD-001", "quantity": 1001}]}', "application/json", 400),
    ("enormous", b'{"items": [{"sku": "BRD-001", "quantity": 1e400}]}', "application/json", 400),
    ("float", b'{"items": [{"sku": "BRD-001", "quantity": 1.0}]}', "application/json", 400),
    ("string qty", b'{"items": [{"sku": "BRD-001", "quantity": "1"}]}', "application/json", 400),
    ("unknown sku", b'{"items": [{"sku": "NOPE", "quantity": 1}]}', "application/json", 400),
    (
        "line extra",
        b'{"items": [{"sku": "BRD-001", "quantity": 1, "p": 1}]}',
        "application/json",
        400,
    ),
    ("form", b"items=1", "application/x-www-form-urlencoded", 415),
    ("text", b'{"items": []}', "text/plain", 415),
    ("65 KiB", b'{"items": [], "pad": "' + b"x" * (65 * 1024) + b'"}', "application/json", 413),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status"), BAD_BODIES, ids=[case[0] for case in BAD_BODIES]
)
async def test_bad_preview_bodies_get_problems_and_change_nothing(
    api: Api, name: str, body: bytes, content_type: str, status: int
) -> None:
    device = await api.device()
    before = await api.snapshot()
    got, problem, response = await api.call(
        "POST", "/api/orders/preview", {**device, "Content-Type": content_type}, data=body
    )
    assert got == status, (name, problem)
    assert response.content_type == "application/problem+json"
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert "Traceback" not in str(problem)
    assert await api.snapshot() == before


async def test_restock_flow_and_its_bad_input(api: Api) -> None:
    truck, operator = await api.truck(), await api.operator()
    before = await api.snapshot()
    for items in (
        [{"sku": "NOPE", "quantity": 1, "unit_cost": "1.00"}],
        [{"sku": "BRD-001", "quantity": 5}],
        [{"sku": "BRD-001", "quantity": 5, "unit_cost": 1.5}],
        [{"sku": "BRD-001", "quantity": 0, "unit_cost": "1.00"}],
        [{"sku": "BRD-001", "quantity": 1, "unit_cost": "1" + "0" * 26}],  # was a 500
    ):
        status, _body, _ = await api.call("POST", "/api/restocks", truck, json={"items": items})
        assert status == 400, items
    assert await api.snapshot() == before
    status, receipt, _ = await api.call(
        "POST",
        "/api/restocks",
        truck,
        json={"items": [{"sku": "BRD-001", "quantity": 30, "unit_cost": "2.50"}]},
    )
    assert status == 202
    assert receipt["status"] == "PROCESSING"
    assert receipt["total_cost"] == "75.00"
    restock_id = receipt["restock_id"]
    await wait_final(api.system, [], restocks=[restock_id])
    status, restock, _ = await api.call("GET", f"/api/restocks/{restock_id}", truck)
    assert status == 200
    assert restock["status"] == "COMPLETED"
    assert restock["kind"] == "RESTOCK"
    assert (await api.call("GET", f"/api/restocks/{restock_id}", operator))[0] == 200
    device = await api.device()
    assert (await api.call("GET", f"/api/restocks/{restock_id}", device))[0] == 403
    status, listing, _ = await api.call("GET", "/api/restocks", truck)
    assert [r["restock_id"] for r in listing["restocks"]] == [restock_id]


async def test_a_retry_after_the_order_moved_on_gets_the_first_answer_again(
    api: Api,
) -> None:
    """The first answer is rendered again from the order its key made, as it was made:
    still PREVIEWED for a retry after the order was confirmed (a truck's restock too)."""
    device, truck = await api.device(), await api.truck()
    body = {"items": [{"sku": "BRD-001", "quantity": 2}, {"sku": "BRD-001", "quantity": 1}]}
    key = {"Idempotency-Key": "fridge-lost-1"}
    status, first, _ = await api.call("POST", "/api/orders/preview", device | key, json=body)
    assert status == 201
    delivery = {"items": [{"sku": "DAI-001", "quantity": 5, "unit_cost": "0.90"}]}
    truck_key = {"Idempotency-Key": "truck-lost-1"}
    status, receipt, _ = await api.call("POST", "/api/restocks", truck | truck_key, json=delivery)
    assert status == 202
    await wait_final(api.system, [], restocks=[receipt["restock_id"]])
    await api.call("POST", f"/api/orders/{first['order_id']}/confirm", device)  # it moved on

    status, again, response = await api.call("POST", "/api/orders/preview", device | key, json=body)
    assert (status, again) == (201, first)
    assert response.headers["Idempotent-Replayed"] == "true"
    status, again, response = await api.call(
        "POST", "/api/restocks", truck | truck_key, json=delivery
    )
    assert (status, again) == (202, receipt)
    assert response.headers["Idempotent-Replayed"] == "true"
    orders, _ = await api.system.list_orders(limit=10)
    assert len(orders) == 1  # nothing made twice
    status, problem, _ = await api.call(  # the same key for another basket: refused
        "POST",
        "/api/orders/preview",
        device | key,
        json={"items": [{"sku": "BRD-002", "quantity": 1}]},
    )
    assert status == 422
    assert "different request" in problem["detail"]
    bad_day = {"items": [{**delivery["items"][0], "expiry_date": "2099-02-30"}]}
    status, _, _ = await api.call("POST", "/api/restocks", truck | truck_key, json=bad_day)
    assert status == 422  # the key made a delivery: not a 400 noted under it
    status, again, _ = await api.call("POST", "/api/restocks", truck | truck_key, json=delivery)
    assert (status, again) == (202, receipt)

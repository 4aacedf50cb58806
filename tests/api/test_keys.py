"""An Idempotency-Key is one request's: its retry gets the first answer byte for byte
(what it made, rendered again as it was made), and the same key with another body or on
another route is 422 and does nothing."""

from __future__ import annotations

import sqlite3

import orjson
from multidict import CIMultiDictProxy

from tests.api.conftest import Api, ApiFactory
from tests.api.test_compat_errors import ON
from tests.helpers import wait_final

ITEMS = [{"sku": "BRD-001", "quantity": 2}, {"sku": "DAI-001", "quantity": 1}]
DATED = {
    "sku": "BRD-001",
    "quantity": 5,
    "unit_cost": "1.00",
    "expiry_date": "2099-01-01",
    "mfd_date": "2026-01-01",
}

Sent = tuple[int, bytes, CIMultiDictProxy[str]]


async def post(api: Api, path: str, headers: dict[str, str], payload: object) -> Sent:
    response = await api.client.post(path, headers=headers, json=payload)
    return response.status, await response.read(), response.headers


async def test_a_preview_is_answered_again_byte_for_byte_after_it_completed(api: Api) -> None:
    device = await api.device()
    key = {"Idempotency-Key": "p-bytes", **device}
    first = await post(api, "/api/orders/preview", key, {"items": ITEMS})
    order_id = orjson.loads(first[1])["order_id"]
    await api.call("POST", f"/api/orders/{order_id}/confirm", device)
    await wait_final(api.system, [order_id])
    later = await post(api, "/api/orders/preview", key, {"items": ITEMS})
    assert (later[0], later[1]) == (first[0], first[1])
    assert later[2]["Idempotent-Replayed"] == "true"


async def test_a_delivery_is_answered_again_byte_for_byte(api: Api) -> None:
    truck = await api.truck()
    key = {"Idempotency-Key": "r-bytes", **truck}
    first = await post(api, "/api/restocks", key, {"items": [DATED]})
    again = await post(api, "/api/restocks", key, {"items": [DATED]})
    assert first[0] == 202
    assert (again[0], again[1]) == (first[0], first[1])
    assert again[2]["Content-Type"] == first[2]["Content-Type"]


async def test_another_body_under_the_key_is_422_even_with_the_same_lines(api: Api) -> None:
    """Another body, not only other lines: another manufacturing date, the items in
    another order."""
    truck, device = await api.truck(), await api.device()
    key = {"Idempotency-Key": "r-mfd", **truck}
    assert (await post(api, "/api/restocks", key, {"items": [DATED]}))[0] == 202
    other_day = {**DATED, "mfd_date": "2026-02-01"}
    assert (await post(api, "/api/restocks", key, {"items": [other_day]}))[0] == 422
    key = {"Idempotency-Key": "reordered", **device}
    assert (await post(api, "/api/orders/preview", key, {"items": ITEMS}))[0] == 201
    assert (await post(api, "/api/orders/preview", key, {"items": ITEMS[::-1]}))[0] == 422


async def test_a_previews_key_on_its_confirm_is_422_and_the_preview_still_replays(
    api: Api,
) -> None:
    device = await api.device()
    key = {"Idempotency-Key": "shared-key", **device}
    status, preview, _ = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    assert status == 201
    status, _, _ = await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", key)
    assert status == 422
    assert (await api.system.get_order(preview["order_id"])).status == "PREVIEWED"
    status, again, _ = await api.call("POST", "/api/orders/preview", key, json={"items": ITEMS})
    assert (status, again) == (201, preview)


async def test_a_native_key_on_the_original_clients_routes_is_422_and_makes_nothing(
    make_api: ApiFactory,
) -> None:
    api = await make_api(*ON)
    device, truck = await api.device(), await api.truck()
    key = {"Idempotency-Key": "x-route", **device}
    assert (await post(api, "/api/orders/preview", key, {"items": ITEMS}))[0] == 201
    assert (await post(api, "/api/client/order/preview", key, {"items": ITEMS}))[0] == 422
    key = {"Idempotency-Key": "truck-x", **truck}
    native = {"items": [{"sku": "BRD-001", "quantity": 5, "unit_cost": "1.00"}]}
    assert (await post(api, "/api/restocks", key, native))[0] == 202
    delivery = {
        "supplier_id": "S-9",
        "supplier_name": "Other farm",
        "items": [
            {
                "sku": "NEW-777",
                "quantity": 3,
                "unit_cost": 2.5,
                "name": "New thing",
                "aisle_type": "produce",
            }
        ],
    }
    status, text, _ = await post(api, "/api/truck/restock", key, delivery)
    assert status == 422, text
    with sqlite3.connect(api.config.data_path / "autogrocery.db") as conn:
        made = conn.execute("SELECT count(*) FROM products WHERE sku = 'NEW-777'").fetchone()
        suppliers = conn.execute("SELECT count(*) FROM restock_suppliers").fetchone()
    assert (made[0], suppliers[0]) == (0, 0)


async def test_an_order_made_before_digests_were_kept_is_compared_by_its_lines(
    api: Api,
) -> None:
    """A store upgraded with keyed orders in it: their keys have no digest, and their
    API notes are gone after a day; a retry is told apart by the lines it asks for."""
    device = await api.device()
    key = {"Idempotency-Key": "before-digests", **device}
    first = await post(api, "/api/orders/preview", key, {"items": ITEMS})
    with sqlite3.connect(api.config.data_path / "autogrocery.db") as conn:
        conn.execute("UPDATE orders SET request_hash = NULL")
    again = await post(api, "/api/orders/preview", key, {"items": ITEMS[::-1]})
    assert (again[0], again[1]) == (first[0], first[1])
    other = await post(api, "/api/orders/preview", key, {"items": ITEMS[:1]})
    assert other[0] == 422
    orders, _ = await api.system.list_orders(limit=10)
    assert len(orders) == 1


async def test_a_previews_first_answer_keeps_its_expiry_across_a_change_of_reservation_time(
    make_api: ApiFactory,
) -> None:
    api = await make_api("orders.reservation_ttl=300")
    device = await api.device()
    key = {"Idempotency-Key": "expiry", **device}
    first = await post(api, "/api/orders/preview", key, {"items": ITEMS})
    await api.client.close()
    await api.system.stop()
    again_api = await make_api("orders.reservation_ttl=600")
    again = await post(again_api, "/api/orders/preview", key, {"items": ITEMS})
    assert (again[0], again[1]) == (first[0], first[1])


async def test_an_original_trucks_delivery_from_before_digests_is_not_made_again(
    make_api: ApiFactory,
) -> None:
    """Its note gone (a day later) and no digest kept: the retry runs again and the store
    finds the restock its key made; nothing is delivered twice."""
    api = await make_api(*ON)
    key = {"Idempotency-Key": "old-truck"}
    delivery = {
        "supplier_id": "S-1",
        "supplier_name": "Farm",
        "items": [{"sku": "BRD-001", "quantity": 5, "unit_cost": 1.1}],
    }
    first = await post(api, "/api/truck/restock", key, delivery)
    assert first[0] == 201
    with sqlite3.connect(api.config.data_path / "autogrocery.db") as conn:
        conn.execute("UPDATE orders SET request_hash = NULL")
        conn.execute("DELETE FROM idempotency_keys")
    again = await post(api, "/api/truck/restock", key, delivery)
    assert again[0] == 201
    assert orjson.loads(again[1])["order_id"] == orjson.loads(first[1])["order_id"]


async def test_a_body_refused_under_a_key_is_its_answer_and_the_key_is_spent(api: Api) -> None:
    """The same key with another body is 422, whether the first body made an order or
    was refused for its shape; and a used key is looked up before the body is read."""
    device = await api.device()
    key = {"Idempotency-Key": "bad-first", **device}
    zero = {"items": [{"sku": "BRD-001", "quantity": 0}]}
    first = await post(api, "/api/orders/preview", key, zero)
    again = await post(api, "/api/orders/preview", key, zero)
    assert first[0] == again[0] == 400
    assert again[1] == first[1]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert (await post(api, "/api/orders/preview", key, {"items": ITEMS}))[0] == 422
    orders, _ = await api.system.list_orders(limit=10)
    assert orders == []
    key = {"Idempotency-Key": "good-first", **device}
    assert (await post(api, "/api/orders/preview", key, {"items": ITEMS}))[0] == 201
    assert (await post(api, "/api/orders/preview", key, zero))[0] == 422


async def test_a_refused_body_under_the_key_of_an_order_from_before_digests_is_422(
    api: Api,
) -> None:
    """The key made an order before digests were kept: a body refused for its shape
    under it is another request (422, not noted), and the order's own retry replays."""
    device = await api.device()
    key = {"Idempotency-Key": "old-then-bad", **device}
    first = await post(api, "/api/orders/preview", key, {"items": ITEMS})
    with sqlite3.connect(api.config.data_path / "autogrocery.db") as conn:
        conn.execute("UPDATE orders SET request_hash = NULL")
    zero = {"items": [{"sku": "BRD-001", "quantity": 0}]}
    assert (await post(api, "/api/orders/preview", key, zero))[0] == 422
    again = await post(api, "/api/orders/preview", key, {"items": ITEMS})
    assert (again[0], again[1]) == (first[0], first[1])

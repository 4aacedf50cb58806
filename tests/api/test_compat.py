"""The compatibility layer, driven by clients that behave exactly as the original fridge
and truck UIs do (tests/api/original_clients.py), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import pytest

from autogrocery.domain.records import OrderRecord
from autogrocery.runtime.eventbus import Subscription
from tests.api.conftest import Api, ApiFactory
from tests.api.original_clients import OriginalFridge, OriginalTruck, send
from tests.conftest import ConfigFactory
from tests.helpers import analytics_settled, check_invariants, iso
from tests.waiting import eventually

ON = ("compat.original=true",)
TRUCK_ON = (*ON, "compat.truck_without_auth=true")
PASSWORD = "fridge-pass-1"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def base(api: Api) -> str:
    return str(api.client.make_url("/"))


async def seen(subscription: Subscription, order_id: str, status: str) -> OrderRecord:
    """The order as the first `order.updated` event that shows it in `status` carries it."""
    while True:
        _, event = await asyncio.wait_for(subscription.receive(), 10)
        order = event.data
        if isinstance(order, OrderRecord) and (order.order_id, order.status) == (order_id, status):
            return order


async def test_the_original_fridge_orders_from_registration_to_history(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    events = api.system.subscribe(["order.updated"])
    fridge = OriginalFridge(session, base(api))
    shown = await fridge.register("fridge-42", PASSWORD, email="", phone="")
    assert shown == "Device Registered. Please Login."
    assert await fridge.login("fridge-42", PASSWORD)
    first_refresh = fridge.refresh_token
    assert fridge.token
    assert first_refresh
    assert fridge.last_refresh_ts > 0, "the client refreshed right after login"

    shown = await fridge.stock_scan([("BRD-001", 2), ("DAI-001", 1), ("", 1)])
    order_id = fridge.order_id
    assert order_id
    assert order_id.startswith("ord_")
    assert fridge.confirmed_items == {"BRD-001": 2, "DAI-001": 1}
    assert shown[1:] == ["BRD-001: 2 units available", "DAI-001: 1 units available"]

    receipt = await fridge.dispatch()
    assert isinstance(receipt, dict), receipt
    assert receipt["OrderID"] == order_id
    assert receipt["Status"] == "COMPLETED"
    assert receipt["TotalPrice"] == 9.65  # a JSON number: 2 x 4.20 + 1.25
    assert isinstance(receipt["TotalPrice"], float)
    assert receipt["CreatedAt"].endswith("Z")
    assert receipt["Items"] == {"BRD-001": 2, "DAI-001": 1}
    assert fridge.telemetry[-2:] == ["Robot Telemetry: `COMPLETED`", "FINAL CHARGE: $9.65"]

    history = await fridge.order_history()
    assert isinstance(history, list)
    assert [(o["OrderID"], o["Status"], o["TotalPrice"]) for o in history] == [
        (order_id, "COMPLETED", 9.65)
    ]
    # The client kept one refresh token throughout, and it still works.
    assert fridge.refresh_token == first_refresh
    assert await fridge.refresh_access_token()

    # One order path: the native API, the books and the events all have it.
    native = await api.bearer("fridge-42", PASSWORD)
    status, order, _ = await api.call("GET", f"/api/orders/{order_id}", native)
    assert (status, order["status"], order["total"]) == (200, "COMPLETED", "9.65")
    status, mine, _ = await api.call("GET", "/api/orders", native)
    assert [o["order_id"] for o in mine["orders"]] == [order_id]
    assert (await seen(events, order_id, "COMPLETED")).total == 965
    await eventually(lambda: analytics_settled(api.system), within=10)  # its row follows COMPLETED
    on_hand = check_invariants(api.config.data_path)
    status, inventory, _ = await api.call("GET", "/api/ops/inventory", await api.operator())
    assert {i["sku"]: i["on_hand"] for i in inventory["items"]} == on_hand
    analytics = await api.system.analytics()
    assert analytics["customer"]["completed"] == 1


async def test_the_original_truck_ui_delivers_without_credentials(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*TRUCK_ON)
    operator = await api.operator()
    _, before, _ = await api.call("GET", "/api/ops/inventory", operator)
    bread_before = next(i["on_hand"] for i in before["items"] if i["sku"] == "BRD-001")
    truck = OriginalTruck(session, base(api))
    rows = [
        {
            "sku": "BRD-001",
            "name": "Sourdough",
            "aisle_type": "bread",
            "quantity": 10,
            "unit_cost": 2.3,
        },
        {
            "sku": "APPLE-101",
            "name": "Fresh Apples",
            "aisle_type": "produce",
            "quantity": 5,
            "unit_cost": 0.55,
        },
        {"sku": "", "name": "", "aisle_type": "produce", "quantity": 1, "unit_cost": 0.0},
    ]
    restock_id, message, total_cost = await truck.offload(
        "SUPP-NESTLE-01", "Nestle Waters", rows, date(2026, 11, 1), date(2027, 11, 1)
    )
    assert restock_id.startswith("rst_")
    assert message.startswith("SUCCESS: restock accepted: 2 line(s), total cost 25.75")
    assert message.endswith(f"| ORDER ID: {restock_id}")
    assert total_cost == 25.75  # 10 x 2.30 + 5 x 0.55, exactly
    assert truck.telemetry[-1] == "Restock Telemetry: `COMPLETED`"

    # The status record carries the supplier the truck sent.
    res = await send(
        session, "GET", f"{base(api)}api/truck/restock/status", params={"order_id": restock_id}
    )
    data = res.json()["data"]
    assert res.json()["status"] == "success"
    assert data["OrderID"] == restock_id
    assert data["SupplierID"] == "SUPP-NESTLE-01"
    assert data["CreatedAt"].endswith("Z")

    # The native API shows the restock as the configured truck's.
    status, native, _ = await api.call("GET", f"/api/restocks/{restock_id}", await api.truck())
    assert (status, native["status"], native["total_cost"]) == (200, "COMPLETED", "25.75")
    assert {(i["sku"], i["quantity"], i["unit_cost"]) for i in native["items"]} == {
        ("BRD-001", 10, "2.30"),
        ("APPLE-101", 5, "0.55"),
    }
    _, after, _ = await api.call("GET", "/api/ops/inventory", operator)
    items = {i["sku"]: i for i in after["items"]}
    assert items["BRD-001"]["on_hand"] == bread_before + 10
    apple = items["APPLE-101"]
    assert (apple["name"], apple["aisle"], apple["on_hand"]) == ("Fresh Apples", "produce", 5)
    assert apple["unit_cost"] == "0.55"
    # Repriced by the rule once shelved: 0.55 x 1.30 x 0.9 (plentiful: min factor) = 0.6435
    assert apple["price"] == "0.64"
    status, movements, _ = await api.call("GET", "/api/ops/movements?sku=APPLE-101", operator)
    assert [(m["type"], m["delta"], m["ref"]) for m in movements["movements"]] == [
        ("IN", 5, restock_id)
    ]
    # The dates travel with the restock's lines, and each dated line became a lot.
    restock = await api.system.get_restock(restock_id)
    lines = sorted(
        (line.sku, line.quantity, iso(line.mfd_date), iso(line.expiry_date))
        for line in restock.lines
    )
    assert lines == [
        ("APPLE-101", 5, "2026-11-01", "2027-11-01"),
        ("BRD-001", 10, "2026-11-01", "2027-11-01"),
    ]
    expiring = await api.system.reports.expiring(3650)
    assert {lot.sku for lot, _ in expiring} >= {"APPLE-101", "BRD-001"}
    await eventually(lambda: analytics_settled(api.system), within=10)  # its row follows COMPLETED
    check_invariants(api.config.data_path)


async def test_compat_off_the_original_paths_are_404(api: Api) -> None:
    calls = [
        ("POST", "/api/client/register"),
        ("POST", "/api/client/login"),
        ("POST", "/api/client/refresh"),
        ("POST", "/api/client/order/preview"),
        ("POST", "/api/client/order/confirm"),
        ("POST", "/api/client/order/cancel"),
        ("GET", "/api/client/orders/last"),
        ("GET", "/api/client/orders"),
        ("POST", "/api/truck/restock"),
        ("GET", "/api/truck/restock/status?order_id=rst_1"),
    ]
    for method, path in calls:
        status, _, _ = await api.call(method, path, json={"device_id": "fridge-1"})
        assert status == 404, (method, path)


async def test_the_layer_is_outside_our_openapi_document(
    make_api: ApiFactory, make_config: ConfigFactory, tmp_path: Path
) -> None:
    off = await make_api()
    config = make_config("auth.bcrypt_cost=4", *TRUCK_ON, data_dir=tmp_path / "compat")
    on = await make_api(config=config)
    _, without, _ = await off.call("GET", "/api/openapi.json")
    _, document, _ = await on.call("GET", "/api/openapi.json")
    assert document["paths"] == without["paths"]
    assert document["components"] == without["components"]
    served = {r.resource.canonical for r in on.client.app.router.routes() if r.resource}
    assert "/api/client/order/preview" in served
    assert "/api/truck/restock" in served

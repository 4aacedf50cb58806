"""The layer's answers to what goes wrong: plain text in the words the original clients
look for, the original's status codes, and nothing changed by bad input."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from autogrocery.store.db import DB_NAME
from tests.api.conftest import Api, ApiFactory
from tests.api.original_clients import OriginalFridge, Reply, send
from tests.helpers import iso, wait_final

ON = ("compat.original=true", "compat.truck_without_auth=true")
PASSWORD = "fridge-pass-1"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    return await make_api(*ON)


class Raw:
    """Calls as the original clients make them, with a fridge's token."""

    def __init__(self, session: aiohttp.ClientSession, api: Api) -> None:
        self.session, self.url, self.token = session, str(api.client.make_url("/")), ""

    async def __call__(self, method: str, path: str, payload: Any = None, **kw: Any) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return await send(self.session, method, self.url + path, payload, headers, **kw)

    async def fridge(self, device_id: str = "fridge-1") -> Raw:
        body = {"device_id": device_id, "email": "f@x.io", "phone": "", "password": PASSWORD}
        await self("POST", "api/client/register", body)
        res = await self("POST", "api/client/login", {"device_id": device_id, "password": PASSWORD})
        self.token = res.json()["access_token"]
        return self


def text(res: Reply, status: int) -> str:
    assert res.status_code == status, (res.status_code, res.text)
    assert res.content_type == "text/plain", res.content_type
    return res.text


async def test_registration_and_login_errors_are_our_rules_in_plain_text(
    api: Api, session: aiohttp.ClientSession
) -> None:
    fridge = OriginalFridge(session, str(api.client.make_url("/")))
    assert await fridge.register("fridge-1", "short") == "Error: password: at least 8 characters\n"
    shown = await fridge.register("x", PASSWORD)
    assert shown.startswith("Error: device_id: 3-64 characters")
    assert await fridge.register("fridge-1", PASSWORD) == "Device Registered. Please Login."
    shown = await fridge.register("fridge-1", PASSWORD)
    assert shown == "Error: device 'fridge-1' is already registered\n"
    assert not await fridge.login("fridge-1", "wrong-password")
    raw = Raw(session, api)
    payload = {"device_id": "fridge-1", "email": "", "phone": "", "password": PASSWORD}
    assert "already registered" in text(await raw("POST", "api/client/register", payload), 409)
    res = await raw("POST", "api/client/login", {"device_id": "fridge-1", "password": "nope-nope"})
    assert text(res, 401) == "unknown username or wrong password\n"
    res = await raw("POST", "api/client/login", {"device_id": "fridge-1"})
    assert text(res, 400) == "password: required\n"
    res = await raw("POST", "api/client/refresh")
    assert "Authorization: Bearer <refresh token>" in text(res, 401)


async def test_order_errors_carry_the_words_the_fridge_looks_for(
    api: Api, session: aiohttp.ClientSession
) -> None:
    before = await api.snapshot()
    raw = Raw(session, api)
    res = await raw(
        "POST", "api/client/order/preview", {"items": [{"sku": "BRD-001", "quantity": 1}]}
    )
    assert "access token" in text(res, 401)
    await raw.fridge()
    short = {"items": [{"sku": "BRD-001", "quantity": 1}, {"sku": "PAR-001", "quantity": 1000}]}
    said = text(await raw("POST", "api/client/order/preview", short), 409)
    assert said.startswith("insufficient stock: PAR-001 (requested 1000, available ")
    many = {"items": [{"sku": "BRD-001", "quantity": 5000}]}  # past our per-order limit
    said = text(await raw("POST", "api/client/order/preview", many), 409)
    assert said == (
        "insufficient stock: BRD-001 (requested 5000); at most 1000 of a product per order\n"
    )
    said = text(
        await raw("POST", "api/client/order/preview", {"items": [{"sku": "NOPE", "quantity": 1}]}),
        400,
    )
    assert "NOPE" in said
    bad = {"items": [{"sku": "BRD-001", "quantity": "2"}]}
    said = text(await raw("POST", "api/client/order/preview", bad), 400)
    assert said == "items[0].quantity: must be an integer\n"
    said = text(await raw("POST", "api/client/order/preview", {"items": []}), 400)
    assert "at least one line" in said
    assert await api.snapshot() == before
    truck = Raw(session, api)
    truck.token = (await api.truck())["Authorization"].split()[1]
    said = text(await truck("POST", "api/client/order/preview", short), 403)
    assert "device" in said


async def test_no_orders_yet_is_data_null_and_an_empty_history(
    api: Api, session: aiohttp.ClientSession
) -> None:
    raw = await Raw(session, api).fridge()
    res = await raw("GET", "api/client/orders/last")
    assert (res.status_code, res.json()) == (200, {"status": "success", "data": None})
    res = await raw("GET", "api/client/orders")
    assert (res.status_code, res.json()) == (200, {"status": "success", "data": []})


async def test_cancel_a_previewed_order_and_the_original_status_codes_around_it(
    api: Api, session: aiohttp.ClientSession
) -> None:
    fridge = OriginalFridge(session, str(api.client.make_url("/")))
    await fridge.register("fridge-3", PASSWORD)
    await fridge.login("fridge-3", PASSWORD)
    await fridge.stock_scan([("BRD-001", 3)])
    order_id = fridge.order_id
    res = await fridge.auth_request("GET", "/api/client/orders/last")
    assert res.json()["data"]["Status"] == "PENDING"  # our PREVIEWED
    assert await fridge.cancel_current_order() == "Order cancelled and reservation released"
    inventory = {level.sku: level for level in await api.system.levels()}
    assert inventory["BRD-001"].reserved == 0
    res = await fridge.auth_request("GET", "/api/client/orders/last")
    assert res.json()["data"]["Status"] == "CANCELLED"
    fridge.order_id = order_id  # press the buttons again on the cancelled order
    assert (await fridge.cancel_current_order()).startswith("Cancel failed: ")
    res = await fridge.auth_request(
        "POST", "/api/client/order/confirm", {"order_id": order_id, "items": {"BRD-001": 3}}
    )
    assert "is CANCELLED and cannot be confirmed" in text(res, 409)

    await fridge.stock_scan([("BRD-001", 1)])
    confirmed = fridge.order_id
    body = {"order_id": confirmed, "items": fridge.confirmed_items}
    res = await fridge.auth_request("POST", "/api/client/order/confirm", body)
    assert res.status_code == 200
    assert res.json()["status"] == "PROCESSING"
    assert res.json()["order_id"] == confirmed
    assert res.json()["message"]
    res = await fridge.auth_request("POST", "/api/client/order/confirm", body)
    assert text(res, 409).endswith("not PENDING\n")
    res = await fridge.auth_request("POST", "/api/client/order/cancel", {"order_id": confirmed})
    text(res, 409)
    await wait_final(api.system, [confirmed])

    other = await Raw(session, api).fridge("fridge-4")
    for action in ("confirm", "cancel"):
        res = await other("POST", f"api/client/order/{action}", {"order_id": confirmed})
        assert "no order" in text(res, 404)


async def test_restock_status_needs_a_known_order_id(
    api: Api, session: aiohttp.ClientSession
) -> None:
    raw = Raw(session, api)
    assert "order_id is required" in text(await raw("GET", "api/truck/restock/status"), 400)
    res = await raw("GET", "api/truck/restock/status", params={"order_id": "rst_nope"})
    assert "no restock rst_nope" in text(res, 404)


def line(**changes: Any) -> dict[str, Any]:
    return {
        "sku": "BRD-001",
        "name": "Sourdough loaf",
        "aisle_type": "bread",
        "quantity": 4,
        "unit_cost": 3.1,
        "mfd_date": "2026-11-01",
        "expiry_date": "2099-11-08",
    } | changes


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([line(), line(sku="NEW-1", name="", aisle_type="")], "items[1]: unknown SKU NEW-1"),
        ([line(sku="NEW-1", name="Kale", aisle_type="garden")], "unknown aisle 'garden'"),
        ([line(sku="NEW-1", name="Kale", aisle_type="produce", unit_cost=1.005)], "two decimal"),
        ([line(unit_cost=-1.5)], "items[0].unit_cost: expected a non-negative amount"),
        ([line(mfd_date="2099-12-01")], "items[0].expiry_date: is before mfd_date"),
        ([line(expiry_date="next week")], "items[0].expiry_date: must be a date"),
        ([line(sku="NEW-1", name="Kale", aisle_type="produce", quantity=0)], "between 1 and"),
        ([line(), line(unit_cost=3.2)], "differs from an earlier BRD-001 line"),
        ([], "at least one line"),
    ],
)
async def test_a_bad_delivery_is_400_text_and_changes_nothing(
    api: Api, session: aiohttp.ClientSession, items: list[dict[str, Any]], words: str
) -> None:
    before = await api.snapshot()
    raw = Raw(session, api)
    payload = {"supplier_id": "S-1", "supplier_name": "Farm", "items": items}
    said = text(await raw("POST", "api/truck/restock", payload), 400)
    assert words in said
    assert await api.snapshot() == before
    with sqlite3.connect(api.config.data_path / DB_NAME) as conn:
        assert conn.execute("SELECT COUNT(*) FROM orders WHERE kind = 'RESTOCK'").fetchone() == (0,)


async def test_dates_as_days_or_empty_and_a_new_product_priced_by_the_rule(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    # Slow shelving (20 items x 0.1 s): the new product is seen before its stock arrives.
    api = await make_api(*ON, "robots.pick_time=0.1")
    raw = Raw(session, api)
    items = [
        line(sku="KALE-1", name=" Curly kale ", aisle_type="produce", quantity=20, unit_cost=1),
        line(
            sku="KALE-1",
            name="Kale again",
            aisle_type="produce",
            quantity=2,
            unit_cost=1,
            mfd_date="",
            expiry_date="2099-11-20T23:30:00-02:00",
        ),
        line(mfd_date=None, expiry_date=None),
    ]
    payload = {"supplier_id": "S-9", "supplier_name": "Farm", "items": items, "note": "extra"}
    res = await raw("POST", "api/truck/restock", payload)
    assert res.status_code == 201, res.text
    restock_id = res.json()["order_id"]
    assert "1 new product(s)" in res.json()["message"]
    kale = next(level for level in await api.system.levels() if level.sku == "KALE-1")
    # Priced at creation as stock at its min level: unit cost x (1 + margin) = 1.00 x 1.30
    assert (kale.name, kale.aisle, kale.price, kale.on_hand) == ("Curly kale", "produce", 130, 0)
    await wait_final(api.system, [], restocks=[restock_id])
    restock = await api.system.get_restock(restock_id)
    rows = sorted(
        (line.sku, line.quantity, iso(line.mfd_date), iso(line.expiry_date))
        for line in restock.lines
    )
    assert rows == [
        ("BRD-001", 4, None, None),
        ("KALE-1", 2, None, "2099-11-21"),  # 23:30 at UTC-2 is the 21st in UTC
        ("KALE-1", 20, "2026-11-01", "2099-11-08"),
    ]
    kale = next(level for level in await api.system.levels() if level.sku == "KALE-1")
    assert (kale.on_hand, kale.price) == (22, 117)  # 1.00 x 1.30 x 0.9 once plentiful


async def test_a_cost_a_hair_off_a_cent_by_float_rounding_is_that_cent(
    api: Api, session: aiohttp.ClientSession
) -> None:
    raw = Raw(session, api)
    cost = 0.1 + 0.2  # a truck UI that adds floats sends 0.30000000000000004
    payload = {"supplier_id": "S-1", "supplier_name": "Farm", "items": [line(unit_cost=cost)]}
    res = await raw("POST", "api/truck/restock", payload)
    assert res.status_code == 201, res.text
    restock = await api.system.get_restock(res.json()["order_id"])
    assert [line.unit_price for line in restock.lines] == [30]
    # A real sub-cent amount is still refused, its number written plainly.
    payload["items"] = [line(unit_cost=1.005)]
    said = text(await raw("POST", "api/truck/restock", payload), 400)
    assert said == "items[0].unit_cost: at most two decimal places, got 1.005\n"


@pytest.mark.parametrize("cost", ["1e999999", "1e27", "123456789012345678901234567890"])
async def test_a_cost_too_large_for_any_store_is_400_text(
    api: Api, session: aiohttp.ClientSession, cost: str
) -> None:
    before = await api.snapshot()
    text_line = orjson.dumps(line()).decode().replace('"unit_cost":3.1', f'"unit_cost":{cost}')
    payload = f'{{"supplier_id": "S-1", "supplier_name": "Farm", "items": [{text_line}]}}'
    url = str(api.client.make_url("/api/truck/restock"))
    async with session.post(url, data=payload.encode()) as res:
        said = res.status, res.content_type, await res.text()
    assert said[:2] == (400, "text/plain"), said
    assert said[2].startswith("items[0].unit_cost: amount too large"), said
    assert await api.snapshot() == before

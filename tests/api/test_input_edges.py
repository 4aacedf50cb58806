"""Input at the edges: money that only looks like money, bodies in other charsets, and
503s that say when to come back."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from tests.api.conftest import Api, ApiFactory

NOT_MONEY = [
    "1E+30",  # exponents: Decimal takes them
    "1e27",
    "1" * 29,  # past what Decimal quantizes
    "1000000000",  # ten digits before the point
    "\uff11\uff12.\uff15\uff10",  # fullwidth "12.50": Python's \d and Decimal take it
    "\u0663.\u0665\u0660",  # Arabic-Indic "3.50"
    "1_000",  # Decimal takes underscores
    " 5 ",  # and surrounding spaces
    "5\n",  # $ in a Python regex matches before a final newline
    "12.345",
    "-1.00",
    "",
]

PRODUCT = {
    "sku": "BRD-901",
    "name": "Spelt loaf",
    "aisle": "bread",
    "unit": "loaf",
    "price": "3.10",
    "unit_cost": "2.00",
    "min_level": 5,
    "on_hand": 10,
}


@pytest.mark.parametrize("amount", NOT_MONEY)
async def test_amounts_that_are_not_plain_ascii_money_are_400_naming_the_field(
    api: Api, amount: str
) -> None:
    operator, truck = await api.operator(), await api.truck()
    before = await api.snapshot()
    attempts = [
        ("POST", "/api/ops/products", operator, {**PRODUCT, "price": amount}, "price"),
        ("POST", "/api/ops/products", operator, {**PRODUCT, "unit_cost": amount}, "unit_cost"),
        ("PATCH", "/api/ops/products/BRD-001", operator, {"price": amount}, "price"),
        (
            "POST",
            "/api/restocks",
            truck,
            {"items": [{"sku": "BRD-001", "quantity": 1, "unit_cost": amount}]},
            "items[0].unit_cost",
        ),
    ]
    for method, path, who, body, field in attempts:
        status, problem, _ = await api.call(method, path, who, json=body)
        assert status == 400, (path, amount, problem)
        assert problem["errors"][0]["field"] == field, problem
    assert await api.snapshot() == before


async def test_the_largest_amount_is_nine_digits_and_two_places(api: Api) -> None:
    status, product, _ = await api.call(
        "PATCH", "/api/ops/products/BRD-001", await api.operator(), json={"price": "999999999.99"}
    )
    assert status == 200
    assert product["price"] == "999999999.99"


@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "utf-32"])
async def test_a_body_in_another_unicode_charset_is_decoded(api: Api, charset: str) -> None:
    username = "frigo-éèà"
    body = orjson.dumps({"username": username, "password": "fridge-pass-1"}).decode()
    status, account, _ = await api.call(
        "POST",
        "/api/auth/register",
        {"Content-Type": f"application/json; charset={charset}"},
        data=body.encode(charset),
    )
    assert status == 201, account
    assert account["username"] == username


async def test_a_body_in_a_charset_that_is_not_unicode_is_415(api: Api) -> None:
    status, problem, _ = await api.call(
        "POST",
        "/api/auth/register",
        {"Content-Type": "application/json; charset=koi8-r"},
        data=b'{"username": "fridge-9", "password": "fridge-pass-1"}',
    )
    assert status == 415
    assert "koi8-r" in problem["detail"]


async def test_confirm_with_no_robot_alive_is_503_naming_the_aisle_with_retry_after(
    make_api: ApiFactory,
) -> None:
    # No robot of the aisle seen for longer than the aisle deadline: an outage, not a blip.
    api = await make_api("zmq.aisle_deadline=0.2")
    device = await api.device()
    _, preview, _ = await api.call(
        "POST",
        "/api/orders/preview",
        device,
        json={"items": [{"sku": "MEA-001", "quantity": 1}, {"sku": "BRD-001", "quantity": 1}]},
    )
    fleet = api.system.robot_hub.fleet  # type: ignore[attr-defined]
    for robot in api.system.robot_hub.robots():
        if robot.aisle == "meat":
            fleet.leave(robot.robot_id)
    await asyncio.sleep(0.4)
    status, problem, response = await api.call(
        "POST", f"/api/orders/{preview['order_id']}/confirm", device
    )
    assert status == 503
    assert "meat" in problem["detail"]
    assert problem["aisles"] == ["meat"]
    retry = int(response.headers["Retry-After"])
    assert retry >= 1
    assert problem["retry_after"] == retry
    status, order, _ = await api.call("GET", f"/api/orders/{preview['order_id']}", device)
    assert order["status"] == "PREVIEWED"  # still confirmable once a robot is back


async def test_a_503_from_an_actor_that_is_down_carries_retry_after(
    make_api: ApiFactory,
) -> None:
    api = await make_api("robots.restart_delay=30")
    device = await api.device()
    api.system.supervisor.refs["stock"].tell("poison")
    for _ in range(200):
        status, problem, response = await api.call(
            "POST",
            "/api/orders/preview",
            device,
            json={"items": [{"sku": "BRD-001", "quantity": 1}]},
        )
        if status == 503:
            break
        await asyncio.sleep(0.02)
    assert status == 503, problem
    assert int(response.headers["Retry-After"]) >= 1


async def test_a_delivery_at_no_cost_is_refused_before_it_reprices_anything(api: Api) -> None:
    """Stock repriced from a unit cost of 0 would sell at 0.01."""
    truck = await api.truck()
    before = await api.snapshot()
    lines = [{"sku": "BRD-001", "quantity": 5, "unit_cost": "0.00"}]
    status, problem, _ = await api.call("POST", "/api/restocks", truck, json={"items": lines})
    assert status == 400, problem
    assert problem["errors"][0] == {"field": "items[0].unit_cost", "message": "must be above 0"}
    assert await api.snapshot() == before


async def test_a_body_with_several_problems_names_each_top_level_field(api: Api) -> None:
    before = await api.snapshot()
    status, problem, _ = await api.call("POST", "/api/auth/login", json={"username": 1, "extra": 2})
    assert status == 400
    assert [(e["field"], e["message"]) for e in problem["errors"]] == [
        ("username", "must be a string"),
        ("extra", "unknown field"),
        ("password", "required"),
    ]
    assert (
        problem["detail"] == "username: must be a string; extra: unknown field; password: required"
    )
    assert await api.snapshot() == before

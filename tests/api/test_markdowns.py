"""Markdowns over HTTP: an order's first-expired-first-out units from a marked-down lot
bill at its price, on a line of their own; the ledger of markdown sales and the waste
report show them; a markdown survives a restart, ends at `until` or when an operator
ends it; bad input changes nothing."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from tests.api.conftest import Api
from tests.api.test_at_risk import add_product
from tests.api.test_fresh_food import deliver
from tests.helpers import wait_final

SKU = "DAI-920"


class Clock:
    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


async def marked_store(make_api: Any, **kwargs: Any) -> tuple[Api, dict[str, str], str]:
    """SKU at 2.00 with 10 undated units (cost 1.00) and a lot of 6 best before in two
    days (cost 1.20): the lot's id, percent-encoded for a URL."""
    api: Api = await make_api(**kwargs)
    operator = await api.operator()
    await add_product(api, operator, SKU, on_hand=10)
    expiry = str(api.system.today() + timedelta(days=2))
    await deliver(api, [{"sku": SKU, "quantity": 6, "unit_cost": "1.20", "expiry_date": expiry}])
    status, _, _ = await api.call(
        "PATCH", f"/api/ops/products/{SKU}", operator, json={"price": "2.00"}
    )
    assert status == 200
    status, found, _ = await api.call("GET", "/api/ops/expiring?within=3d", operator)
    lot_id = next(lot["lot_id"] for lot in found["lots"] if lot["sku"] == SKU)
    return api, operator, lot_id.replace("/", "%2F")


async def order(api: Api, device: dict[str, str], quantity: int) -> dict[str, Any]:
    """A completed order of `quantity` units of SKU, as GET /api/orders/{id} shows it."""
    status, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": SKU, "quantity": quantity}]}
    )
    assert status == 201, preview
    order_id = preview["order_id"]
    assert (await api.call("POST", f"/api/orders/{order_id}/confirm", device))[0] == 202
    assert (await wait_final(api.system, [order_id]))[order_id].status == "COMPLETED"
    status, done, _ = await api.call("GET", f"/api/orders/{order_id}", device)
    assert done["total"] == preview["total"]
    return dict(done)


def lines(found: dict[str, Any]) -> list[tuple[str, int, str, str | None]]:
    return [
        (ln["sku"], ln["quantity"], ln["unit_price"], ln.get("expiry_date"))
        for ln in found["items"]
    ]


async def test_an_order_bills_a_marked_down_lots_units_at_its_price(make_api: Any) -> None:
    api, operator, lot_id = await marked_store(make_api)
    path = f"/api/ops/lots/{lot_id}/markdown"
    status, marked, _ = await api.call("POST", path, operator, json={"price": "1.50"})
    assert status == 200, marked
    assert (marked["price"], marked["markdown"]["price"], marked["markdown"]["until"]) == (
        "2.00",
        "1.50",
        None,
    )
    expiry = marked["expiry_date"]
    device = await api.device()
    # 8 units: the lot's 6 first (FEFO) at 1.50, then 2 undated at 2.00.
    done = await order(api, device, 8)
    assert lines(done) == [(SKU, 2, "2.00", None), (SKU, 6, "1.50", expiry)]
    assert done["total"] == "13.00"

    today = api.system.today()
    status, waste, _ = await api.call(
        "GET", f"/api/ops/reports/waste?from={today}&to={today}", operator
    )
    assert waste["markdowns"]["marked_down"] == {
        "wasted": 0,
        "wasted_value": "0.00",
        "sold": 6,
        "sold_value": "9.00",
    }
    status, moved, _ = await api.call("GET", f"/api/ops/movements?sku={SKU}&type=OUT", operator)
    assert sorted(m["delta"] for m in moved["movements"]) == [-6, -2]

    status, listed, _ = await api.call("GET", "/api/ops/markdowns", operator)
    assert [
        (m["lot_id"], m["price"], m["active"], m["sold"], m["sold_value"], m["user"])
        for m in listed["markdowns"]
    ] == [(marked["lot_id"], "1.50", True, 6, "9.00", "admin")]

    status, ended, _ = await api.call("DELETE", path, operator)
    assert (status, ended["markdown"]) == (200, None)
    status, listed, _ = await api.call("GET", "/api/ops/markdowns", operator)
    assert listed == {"markdowns": [], "next_cursor": None}
    status, listed, _ = await api.call("GET", "/api/ops/markdowns?ended=true&limit=1", operator)
    assert [(m["active"], m["sold"]) for m in listed["markdowns"]] == [(False, 6)]
    cursor = listed["next_cursor"]
    status, rest, _ = await api.call(
        "GET", f"/api/ops/markdowns?ended=true&limit=1&cursor={cursor}", operator
    )
    assert rest == {"markdowns": [], "next_cursor": None}
    again = await order(api, device, 1)
    assert lines(again) == [(SKU, 1, "2.00", None)]


async def test_a_markdown_survives_a_restart_and_ends_at_until(make_api: Any) -> None:
    clock = Clock()
    api, operator, lot_id = await marked_store(make_api, clock=clock)
    path = f"/api/ops/lots/{lot_id}/markdown"
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock() + 3600))
    status, marked, _ = await api.call(
        "POST", path, operator, json={"price": "1.10", "until": until}
    )
    assert status == 200, marked
    await api.client.close()
    await api.system.stop()

    api = await make_api(config=api.config, clock=clock)
    device = await api.device()
    first = await order(api, device, 2)
    assert lines(first) == [(SKU, 2, "1.10", marked["expiry_date"])]
    clock.ahead = 2 * 3600.0  # past `until`: the product's price again
    later = await order(api, device, 2)
    assert lines(later) == [(SKU, 2, "2.00", None)]
    operator = await api.operator()
    status, report, _ = await api.call("GET", "/api/ops/reports/at-risk", operator)
    assert all(lot["markdown"] is None for lot in report["lots"])

    # The waste report afterwards: a unit of the lot that had the markdown written off,
    # and one of the undated lot, which never had one.
    for lot in (lot_id.replace("%2F", "/"), f"{SKU}/undated"):
        adjust = {"delta": -1, "reason": "WASTE", "lot_id": lot}
        status, _, _ = await api.call("POST", f"/api/ops/stock/{SKU}/adjust", operator, json=adjust)
        assert status == 200
    today = api.system.today()
    status, waste, _ = await api.call(
        "GET", f"/api/ops/reports/waste?from={today}&to={today}", operator
    )
    assert waste["markdowns"] == {
        "marked_down": {"wasted": 1, "wasted_value": "1.20", "sold": 2, "sold_value": "2.20"},
        "not_marked_down": {"wasted": 1, "wasted_value": "1.00"},
    }


async def test_bad_markdowns_are_refused_and_change_nothing(make_api: Any) -> None:
    api, operator, lot_id = await marked_store(make_api)
    before = await api.snapshot()
    undated = f"{SKU}%2Fundated"
    for lot, body, wanted in (
        ("nope%2FDAI-920%2F2026-01-01", {"price": "1.00"}, 404),
        (undated, {"price": "1.00"}, 409),
        (lot_id, {"price": "2.00"}, 400),  # not below the product's price
        (lot_id, {"price": "0"}, 400),
        (lot_id, {"price": "-1"}, 400),
        (lot_id, {"price": 1.5}, 400),
        (lot_id, {"price": "1.00", "until": "2000-01-01"}, 400),
        (lot_id, {"price": "1.00", "until": "tomorrow"}, 400),
        (lot_id, {"price": "1.00", "until": "2030-01-01T00:00:00"}, 400),  # no offset
        (lot_id, {"price": "1.00", "colour": "red"}, 400),
        (lot_id, {}, 400),
    ):
        status, problem, response = await api.call(
            "POST", f"/api/ops/lots/{lot}/markdown", operator, json=body
        )
        assert (status, response.content_type) == (wanted, "application/problem+json"), (
            body,
            problem,
        )
    status, _, _ = await api.call(
        "POST", f"/api/ops/lots/{lot_id}/markdown", await api.device(), json={"price": "1.00"}
    )
    assert status == 403
    assert await api.snapshot() == before
    device = await api.device()
    done = await order(api, device, 1)
    assert lines(done) == [(SKU, 1, "2.00", None)]


async def test_lots_of_one_date_sell_at_one_markdown_on_one_line(make_api: Any) -> None:
    api, operator, lot_id = await marked_store(make_api)
    expiry = str(api.system.today() + timedelta(days=2))
    await deliver(api, [{"sku": SKU, "quantity": 6, "unit_cost": "1.20", "expiry_date": expiry}])
    patch = {"price": "2.00"}  # as before the delivery repriced it
    assert (await api.call("PATCH", f"/api/ops/products/{SKU}", operator, json=patch))[0] == 200
    status, found, _ = await api.call("GET", "/api/ops/expiring?within=3d", operator)
    twins = [lot["lot_id"].replace("/", "%2F") for lot in found["lots"] if lot["sku"] == SKU]
    assert len(twins) == 2
    assert lot_id in twins
    first, second = (f"/api/ops/lots/{lot}/markdown" for lot in twins)
    assert (await api.call("POST", first, operator, json={"price": "1.50"}))[0] == 200
    status, problem, _ = await api.call("POST", second, operator, json={"price": "1.40"})
    assert status == 409, problem
    assert (await api.call("POST", second, operator, json={"price": "1.50"}))[0] == 200
    done = await order(api, await api.device(), 8)  # 6 of one lot, 2 of its twin
    assert lines(done) == [(SKU, 8, "1.50", expiry)]


async def test_an_open_order_with_a_marked_down_line_settles_after_a_restart(
    make_api: Any,
) -> None:
    """The order's two lines of one SKU (6 at the markdown, 2 at the price) are held
    again at start as 8 units FEFO: not 2 and then 6 both from the lot of 6."""
    api, operator, lot_id = await marked_store(make_api)
    path = f"/api/ops/lots/{lot_id}/markdown"
    assert (await api.call("POST", path, operator, json={"price": "1.50"}))[0] == 200
    device = await api.device()
    body = {"items": [{"sku": SKU, "quantity": 8}]}
    status, preview, _ = await api.call("POST", "/api/orders/preview", device, json=body)
    assert status == 201, preview
    await api.client.close()
    await api.system.stop()

    api = await make_api(config=api.config)
    device = await api.device()
    order_id = preview["order_id"]
    assert (await api.call("POST", f"/api/orders/{order_id}/confirm", device))[0] == 202
    assert (await wait_final(api.system, [order_id]))[order_id].status == "COMPLETED"
    product = await api.system.product(SKU)
    assert (product.on_hand, product.reserved) == (8, 0)  # 16 less the 8 sold
    _, lots, _ = await api.call("GET", "/api/ops/expiring?within=3d", await api.operator())
    assert [lot for lot in lots["lots"] if lot["sku"] == SKU] == []  # the lot of 6: sold


async def test_a_sale_at_a_markdown_is_booked_to_the_marked_lot_not_its_twin(
    make_api: Any,
) -> None:
    """Two lots of the same best-before date, the second marked down: an order takes
    the first whole at the price and 2 of the second at the markdown, and the markdown's
    sales name the second."""
    api, operator, first = await marked_store(make_api)
    expiry = str(api.system.today() + timedelta(days=2))
    await deliver(api, [{"sku": SKU, "quantity": 6, "unit_cost": "1.20", "expiry_date": expiry}])
    price = {"price": "2.00"}  # the delivery repriced it
    assert (await api.call("PATCH", f"/api/ops/products/{SKU}", operator, json=price))[0] == 200
    _, found, _ = await api.call("GET", "/api/ops/expiring?within=3d", operator)
    twin = next(
        lot["lot_id"]
        for lot in found["lots"]
        if lot["sku"] == SKU and lot["lot_id"] != first.replace("%2F", "/")
    )
    path = f"/api/ops/lots/{twin.replace('/', '%2F')}/markdown"
    status, problem, _ = await api.call("POST", path, operator, json={"price": "1.50"})
    assert status == 200, problem
    done = await order(api, await api.device(), 8)
    assert lines(done) == [(SKU, 6, "2.00", None), (SKU, 2, "1.50", expiry)]
    _, listed, _ = await api.call("GET", "/api/ops/markdowns", operator)
    assert [(m["lot_id"], m["sold"]) for m in listed["markdowns"]] == [(twin, 2)]

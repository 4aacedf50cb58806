"""The at-risk report over HTTP, on a store with a generated history: two weeks of a
product's sales, then dated lots that will not all sell before they expire."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from autogrocery.domain.reports import day_start
from tests.api.conftest import Api
from tests.api.test_fresh_food import add_test_milk, deliver
from tests.helpers import wait_final

DAY = 86400.0
SKU, IDLE = "DAI-910", "DAI-911"


class NoonClock:
    """The store's time: noon of a day (plus the seconds the test has run), so that a
    lot's selling time is a known number of days."""

    def __init__(self) -> None:
        today = datetime.now(UTC).date()
        self.ahead = day_start(today, UTC) + DAY / 2 - time.time()

    def __call__(self) -> float:
        return time.time() + self.ahead


async def add_product(api: Api, operator: dict[str, str], sku: str, on_hand: int) -> None:
    yoghurt = {"name": f"Test yoghurt {sku}", "unit": "pot", "price": "2.00", "min_level": 0}
    await add_test_milk(api, operator, on_hand, sku=sku, **yoghurt)


def backdate(api: Api, sales_days: float, opened_days: float) -> None:
    """The history: the sales so far moved `sales_days` back, everything else (the
    opening stock) `opened_days` back, as if the store had opened then."""
    conn = sqlite3.connect(api.system.supervisor.ctx.db_path, timeout=10)
    with conn:
        conn.execute("UPDATE movements SET at = at - ? WHERE type = 'OUT'", (sales_days * DAY,))
        conn.execute("UPDATE movements SET at = at - ? WHERE type != 'OUT'", (opened_days * DAY,))
        conn.execute(
            "UPDATE history_marks SET value = value - ? WHERE key = 'opened_at'",
            (opened_days * DAY,),
        )
    conn.close()


async def at_risk_store(make_api: Any) -> tuple[Api, dict[str, str], date]:
    """35 units of SKU sold five days ago in a store opened 20 days ago: 2.5 a day over
    14 days. Then dated lots of it: A (10, best before tomorrow, cost 1.20), B (4, in
    three days, 1.00), C (20, in six days, 1.50); and IDLE, never sold, with a lot of 5
    (in two days, 0.80). Prices set to 2.00 after the deliveries repriced them."""
    api: Api = await make_api(clock=NoonClock())
    operator, device = await api.operator(), await api.device()
    await add_product(api, operator, SKU, on_hand=40)
    await add_product(api, operator, IDLE, on_hand=0)
    for _ in range(5):
        await buy_of(api, device, SKU, 7)
    backdate(api, sales_days=5, opened_days=20)
    today = api.system.today()
    for sku, quantity, cost, days in (
        (SKU, 10, "1.20", 1),
        (SKU, 4, "1.00", 3),
        (SKU, 20, "1.50", 6),
        (IDLE, 5, "0.80", 2),
    ):
        expiry = str(today + timedelta(days=days))
        line = {"sku": sku, "quantity": quantity, "unit_cost": cost, "expiry_date": expiry}
        await deliver(api, [line])
    for sku in (SKU, IDLE):
        status, _, _ = await api.call(
            "PATCH", f"/api/ops/products/{sku}", operator, json={"price": "2.00"}
        )
        assert status == 200
    return api, operator, today


async def buy_of(api: Api, device: dict[str, str], sku: str, quantity: int) -> None:
    status, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": sku, "quantity": quantity}]}
    )
    assert status == 201, preview
    assert (await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device))[0] == 202
    assert (await wait_final(api.system, [preview["order_id"]]))[
        preview["order_id"]
    ].status == "COMPLETED"


async def test_lots_that_will_not_sell_before_expiry_are_listed_with_a_markdown(
    make_api: Any,
) -> None:
    api, operator, today = await at_risk_store(make_api)
    status, report, _ = await api.call("GET", "/api/ops/reports/at-risk", operator)
    assert status == 200, report
    assert (report["days"], report["span_days"], report["elasticity"]) == (14, 14.0, 2.0)
    lots = {lot["sku"] + "@" + lot["expiry_date"]: lot for lot in report["lots"]}
    in_days = {days: str(today + timedelta(days=days)) for days in (1, 2, 3, 6)}
    # B (4 units, sold out in its 2 days at 2.5 a day) is not at risk; the undated lot
    # never is. Earliest best-before first.
    assert list(lots) == [f"{SKU}@{in_days[1]}", f"{IDLE}@{in_days[2]}", f"{SKU}@{in_days[6]}"]

    first = lots[f"{SKU}@{in_days[1]}"]  # on sale 1.5 days: 3.75 sold, 7 of 10 left
    assert first["daily_sales"] == 2.5
    assert abs(first["selling_days"] - 1.5) < 0.01
    assert (first["expected_sold"], first["left_at_expiry"]) == (3, 7)
    assert (first["unit_cost"], first["cost_at_risk"], first["price"]) == ("1.20", "8.40", "2.00")
    # Sells out if 10 / 3.75 = 2.67 times as fast: 2.00 x 2.67 ** -(1/2) = 1.2247
    assert (first["suggested_price"], first["below_cost"]) == ("1.22", False)
    assert first["left_at_suggested"] == 0
    assert first["markdown"] is None

    # C starts once A has expired (1.5 days) and B sold out (1.6 more): 3.4 days left,
    # 8.5 sold, 12 of 20 left. Selling out needs 2.00 x (20 / 8.5) ** -(1/2) = 1.30,
    # below its cost of 1.50: allowed, as at cost units would be written off.
    last = lots[f"{SKU}@{in_days[6]}"]
    assert abs(last["selling_days"] - 3.4) < 0.01
    assert (last["expected_sold"], last["left_at_expiry"], last["cost_at_risk"]) == (8, 12, "18.00")
    assert (last["suggested_price"], last["below_cost"], last["left_at_suggested"]) == (
        "1.30",
        True,
        0,
    )

    idle = lots[f"{IDLE}@{in_days[2]}"]  # no sales to go by: the floor, half its cost
    assert (idle["daily_sales"], idle["expected_sold"], idle["left_at_expiry"]) == (0, 0, 5)
    assert (idle["suggested_price"], idle["below_cost"], idle["left_at_suggested"]) == (
        "0.40",
        True,
        5,
    )

    # Pages: two, then the rest.
    status, page, _ = await api.call("GET", "/api/ops/reports/at-risk?limit=2", operator)
    assert [lot["lot_id"] for lot in page["lots"]] == [lot["lot_id"] for lot in report["lots"][:2]]
    cursor = page["next_cursor"]
    status, rest, _ = await api.call(
        "GET", f"/api/ops/reports/at-risk?limit=2&cursor={cursor}", operator
    )
    assert [lot["lot_id"] for lot in rest["lots"]] == [report["lots"][2]["lot_id"]]
    assert rest["next_cursor"] is None

    # A one-day window holds none of the sales: every lot of SKU is at risk, even B.
    status, short, _ = await api.call("GET", "/api/ops/reports/at-risk?days=1", operator)
    assert sum(1 for lot in short["lots"] if lot["sku"] == SKU) == 3
    for path in ("days=0", "days=367", "days=x", "cursor=nonsense"):
        status, _, response = await api.call("GET", f"/api/ops/reports/at-risk?{path}", operator)
        assert (status, response.content_type) == (400, "application/problem+json"), path
    device = await api.device()
    status, _, _ = await api.call("GET", "/api/ops/reports/at-risk", device)
    assert status == 403


async def test_a_markdown_shortens_the_lots_outlook(make_api: Any) -> None:
    api, operator, _ = await at_risk_store(make_api)
    status, report, _ = await api.call("GET", "/api/ops/reports/at-risk", operator)
    first = report["lots"][0]
    lot_id = first["lot_id"].replace("/", "%2F")
    status, marked, _ = await api.call(
        "POST", f"/api/ops/lots/{lot_id}/markdown", operator, json={"price": "1.22"}
    )
    assert status == 200, marked
    assert marked["markdown"]["price"] == "1.22"
    status, after, _ = await api.call("GET", "/api/ops/reports/at-risk", operator)
    # Sold 2.69 times as fast, lot A sells out in time: only IDLE and C are left (C now
    # starts when A is gone, 1.5 days on, as before).
    assert [lot["lot_id"] for lot in after["lots"]] == [lot["lot_id"] for lot in report["lots"][1:]]
    assert after["lots"][1]["left_at_expiry"] == 12  # 3.41 days left for C: 8 sold

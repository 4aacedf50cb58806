"""Fresh food over HTTP: dated restocks, the expiring list, catalog search, and the
usage, waste and reorder reports on a known history."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from autogrocery.domain.reports import day_start, reorder
from tests.api.conftest import Api
from tests.helpers import wait_final

SKU = "DAI-900"


async def add_test_milk(
    api: Api, operator: dict[str, str], on_hand: int = 0, **other: object
) -> None:
    """A dairy product (SKU, Test milk, 1.99 at a cost of 1.00, min level 5), or the
    same with `other` fields."""
    product = {
        "sku": SKU,
        "name": "Test milk",
        "aisle": "dairy",
        "unit": "l",
        "price": "1.99",
        "unit_cost": "1.00",
        "min_level": 5,
        "on_hand": on_hand,
    } | other
    status, body, _ = await api.call("POST", "/api/ops/products", operator, json=product)
    assert status == 201, body


async def deliver(api: Api, lines: list[dict[str, object]]) -> None:
    status, receipt, _ = await api.call(
        "POST", "/api/restocks", await api.truck(), json={"items": lines}
    )
    assert status == 202, receipt
    await wait_final(api.system, [], restocks=[receipt["restock_id"]])


async def buy(api: Api, device: dict[str, str], quantity: int) -> None:
    status, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": SKU, "quantity": quantity}]}
    )
    assert status == 201, preview
    path = f"/api/orders/{preview['order_id']}/confirm"
    assert (await api.call("POST", path, device))[0] in (200, 202)
    done = await wait_final(api.system, [preview["order_id"]])
    assert done[preview["order_id"]].status == "COMPLETED"


async def test_dated_deliveries_are_listed_as_expiring_soonest_first(api: Api) -> None:
    operator = await api.operator()
    await add_test_milk(api, operator)
    today = api.system.today()
    await deliver(
        api,
        [
            {
                "sku": SKU,
                "quantity": 4,
                "unit_cost": "1.00",
                "expiry_date": str(today + timedelta(9)),
            },
            {
                "sku": SKU,
                "quantity": 3,
                "unit_cost": "1.00",
                "expiry_date": str(today + timedelta(2)),
            },
            {
                "sku": SKU,
                "quantity": 2,
                "unit_cost": "1.00",
                "expiry_date": str(today + timedelta(1)),
            },
        ],
    )

    status, body, _ = await api.call("GET", "/api/ops/expiring?within=3d", operator)

    assert status == 200
    mine = [lot for lot in body["lots"] if lot["sku"] == SKU]
    assert [(lot["days_left"], lot["on_hand"], lot["expired"]) for lot in mine] == [
        (1, 2, False),
        (2, 3, False),
    ]
    assert mine[0]["expiry_date"] == str(today + timedelta(1))
    for bad in ("", "-1d", "3w", "99999d"):
        status, problem, response = await api.call(
            "GET", f"/api/ops/expiring?within={bad}", operator
        )
        assert (status, response.content_type) == (400, "application/problem+json"), bad
        assert "within" in problem["detail"], problem


async def test_a_delivery_with_a_bad_date_is_refused_and_changes_nothing(api: Api) -> None:
    operator = await api.operator()
    await add_test_milk(api, operator)
    before = await api.snapshot()
    for line in (
        {"sku": SKU, "quantity": 1, "unit_cost": "1.00", "expiry_date": "2026-02-30"},
        {"sku": SKU, "quantity": 1, "unit_cost": "1.00", "expiry_date": "tomorrow"},
        {
            "sku": SKU,
            "quantity": 1,
            "unit_cost": "1.00",
            "expiry_date": "2026-12-01",
            "mfd_date": "2026-12-02",
        },
    ):
        status, problem, _ = await api.call(
            "POST", "/api/restocks", await api.truck(), json={"items": [line]}
        )
        assert status == 400, (line, problem)
    assert await api.snapshot() == before


async def test_catalog_search_is_ranked_and_filtered_by_category(api: Api) -> None:
    device = await api.device()

    status, body, _ = await api.call("GET", "/api/catalog?q=CAN%20cola", device)
    assert status == 200
    assert [item["sku"] for item in body["items"]][:1] == ["PAR-011"]  # the can first
    can = body["items"][0]
    assert (can["category"], can["container_type"], can["box_size"]) == ("drinks", "can", 24)

    status, drinks, _ = await api.call("GET", "/api/catalog?q=cola&category=drinks", device)
    assert {"PAR-003", "PAR-011"} <= {item["sku"] for item in drinks["items"]}
    assert {item["category"] for item in drinks["items"]} == {"drinks"}
    status, none, _ = await api.call("GET", "/api/catalog?q=cola&category=dairy", device)
    assert (status, none["items"]) == (200, [])
    status, hebrew, _ = await api.call("GET", "/api/catalog?q=קולה", device)
    assert {"PAR-003", "PAR-011"} <= {item["sku"] for item in hebrew["items"]}
    status, problem, _ = await api.call("GET", "/api/catalog?q=" + "x" * 201, device)
    assert status == 400
    assert "q" in problem["detail"]


class Clock:
    """The store's time: now, moved on by `ahead` seconds."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


async def test_reports_give_the_figures_of_a_known_day(make_api: object) -> None:
    clock = Clock()
    api: Api = await make_api("stock.usage_days=7", "stock.lead_time_days=2", clock=clock)  # type: ignore[operator]
    operator, device = await api.operator(), await api.device()
    await add_test_milk(api, operator, on_hand=10)  # min level 5, at 1.00 a litre
    await deliver(
        api,
        [{"sku": SKU, "quantity": 4, "unit_cost": "1.25", "expiry_date": "2099-01-01"}],
    )
    await buy(api, device, 3)  # from the dated lot first: 3 at 1.25
    await buy(api, device, 4)  # 1 more from it, then 3 undated
    status, _, _ = await api.call(
        "POST", f"/api/ops/stock/{SKU}/adjust", operator, json={"delta": -3, "reason": "WASTE"}
    )
    assert status == 200
    today = api.system.today()

    status, usage, _ = await api.call("GET", "/api/ops/reports/usage?days=7", operator)
    assert status == 200
    assert usage["to"] == str(today)
    assert usage["from"] == str(today - timedelta(6))
    mine = next(entry for entry in usage["skus"] if entry["sku"] == SKU)
    assert mine == {"sku": SKU, "total": 7, "days": [{"date": str(today), "quantity": 7}]}
    assert usage["span_days"] < 1  # a store this young has not seen 7 days

    status, waste, _ = await api.call(
        "GET", f"/api/ops/reports/waste?from={today}&to={today}", operator
    )
    assert status == 200
    assert waste["skus"] == [{"sku": SKU, "quantity": 3, "value": "3.00"}]
    assert waste["total_value"] == "3.00"
    last_year = date(today.year - 1, 1, 1)
    status, old, _ = await api.call(
        "GET", f"/api/ops/reports/waste?from={last_year}&to={last_year}", operator
    )
    assert (old["skus"], old["total_value"]) == ([], "0.00")

    clock.ahead = 86400.0  # a day on: the store is a day old, its usage still in the week
    status, reorder, _ = await api.call("GET", "/api/ops/reports/reorder", operator)
    assert status == 200
    assert (reorder["usage_days"], reorder["lead_time_days"]) == (7, 2)
    assert 1 <= reorder["span_days"] < 1.01  # its one day, not the 7 of the period
    # 4 left, used 7 in its 1 day: 7 a day, 0.6 days of cover; enough for min level +
    # two lead times of use (5 + 28) is 29 more.
    assert next(s for s in reorder["suggestions"] if s["sku"] == SKU) == {
        "sku": SKU,
        "available": 4,
        "min_level": 5,
        "daily_usage": 7.0,
        "days_of_cover": 0.6,
        "quantity": 29,
    }

    for path in (
        "/api/ops/reports/usage?days=0",
        "/api/ops/reports/usage?days=x",
        f"/api/ops/reports/waste?from={today}&to={today - timedelta(1)}",
        "/api/ops/reports/waste?from=2026-13-01&to=2026-12-01",
    ):
        status, _, response = await api.call("GET", path, operator)
        assert (status, response.content_type) == (400, "application/problem+json"), path


async def test_usage_per_day_is_over_the_stores_age_while_it_is_younger_than_the_period(
    make_api: object,
) -> None:
    clock = Clock()
    api: Api = await make_api("stock.usage_days=7", clock=clock)  # type: ignore[operator]
    operator, device = await api.operator(), await api.device()
    await add_test_milk(api, operator, on_hand=10)  # min level 5
    await buy(api, device, 6)  # 4 left: below it, so it is suggested
    clock.ahead = 2 * 86400.0  # two days on
    status, week, _ = await api.call("GET", "/api/ops/reports/usage?days=7", operator)
    assert status == 200
    assert 2 <= week["span_days"] < 2.01  # two days old: per day is over 2 days, not 7
    status, day, _ = await api.call("GET", "/api/ops/reports/usage?days=1", operator)
    assert day["span_days"] == 1  # older than the period: the period
    status, reorder, _ = await api.call("GET", "/api/ops/reports/reorder", operator)
    assert reorder["span_days"] == pytest.approx(week["span_days"], abs=0.001)
    assert next(s for s in reorder["suggestions"] if s["sku"] == SKU)["daily_usage"] == 3.0


async def test_the_reorder_report_suggests_what_sifting_every_level_would(
    make_api: object,
) -> None:
    """Stock finds the candidates itself (below min level, or below what the lead time
    uses); the report is the one every product's level and every movement give."""
    clock = Clock()
    api: Api = await make_api("stock.lead_time_days=2", clock=clock)  # type: ignore[operator]
    operator, device = await api.operator(), await api.device()
    await add_test_milk(api, operator, on_hand=3)  # below its min level, never sold
    levels = {level.sku: level for level in await api.system.levels()}
    short, enough = sorted(levels)[:12:3], sorted(levels)[1]
    # Above the min level, but without two days of what they sell, and one that has.
    quantities = {sku: levels[sku].available - levels[sku].min_level - 1 for sku in short}
    for sku, quantity in [*quantities.items(), (enough, 1)]:
        lines = [{"sku": sku, "quantity": quantity}]
        status, preview, _ = await api.call(
            "POST", "/api/orders/preview", device, json={"items": lines}
        )
        assert status == 201, preview
        assert (await api.call("POST", f"/api/orders/{preview['order_id']}/confirm", device))[
            0
        ] == 202
        await wait_final(api.system, [preview["order_id"]])
    clock.ahead = 3 * 86400.0  # three days of use in the week

    status, report, _ = await api.call("GET", "/api/ops/reports/reorder", operator)
    assert status == 200
    reports = api.system.reports
    today = api.system.today()
    since = day_start(today - timedelta(days=6), reports.ctx.zone)
    until = day_start(today + timedelta(days=1), reports.ctx.zone)
    used: dict[str, int] = {}
    for move in await reports.reader.moved("OUT", since, until, costed=False):
        used[move.sku] = used.get(move.sku, 0) - move.delta
    everything = reorder(await api.system.levels(), used, report["span_days"], 2)
    assert [s["sku"] for s in report["suggestions"]] == [s.sku for s in everything]
    assert {s["sku"] for s in report["suggestions"]} >= {SKU, *short}
    assert enough not in {s["sku"] for s in report["suggestions"]}
    assert [s["quantity"] for s in report["suggestions"]] == [s.quantity for s in everything]

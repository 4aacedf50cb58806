"""The operators' reports and books check over HTTP: pages by `limit` and `cursor`, and
bad paging parameters refused as 400s that name the parameter."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.api.test_fresh_food import add_test_milk
from tests.helpers import wait_final


async def _pages(api: Api, path: str, key: str, limit: int) -> list[dict[str, object]]:
    operator = await api.operator()
    entries: list[dict[str, object]] = []
    cursor = None
    for _ in range(100):
        query = f"{path}{'&' if '?' in path else '?'}limit={limit}"
        status, page, _ = await api.call(
            "GET", query + (f"&cursor={cursor}" if cursor else ""), operator
        )
        assert status == 200, page
        assert len(page[key]) <= limit
        entries += page[key]
        cursor = page["next_cursor"]
        if cursor is None:
            return entries
    raise AssertionError("the pages never ended")


async def test_the_books_check_lists_no_sku_when_all_agree_and_pages_them_all(api: Api) -> None:
    operator = await api.operator()
    await add_test_milk(api, operator, on_hand=4)
    status, books, _ = await api.call("GET", "/api/ops/reconcile", operator)
    assert status == 200, books
    assert (books["ok"], books["items"], books["next_cursor"]) == (True, [], None)
    listed = await _pages(api, "/api/ops/reconcile", "items", 3)
    assert len(listed) == books["checked"] > 3
    skus = [str(item["sku"]) for item in listed]
    assert skus == sorted(set(skus))
    assert {"sku": "DAI-900", "on_hand": 4, "reserved": 0, "ledger": 4, "ok": True} in listed


async def _buy_five_products(api: Api) -> None:
    device = await api.device()
    stocked = [level.sku for level in await api.system.levels() if level.available > 2][:5]
    lines = [{"sku": sku, "quantity": 2} for sku in stocked]
    status, preview, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": lines}
    )
    assert status == 201, preview
    path = f"/api/orders/{preview['order_id']}/confirm"
    assert (await api.call("POST", path, device))[0] in (200, 202)
    done = await wait_final(api.system, [preview["order_id"]])
    assert done[preview["order_id"]].status == "COMPLETED"


async def test_usage_by_month_pages_add_up_to_its_days(api: Api) -> None:
    operator = await api.operator()
    await _buy_five_products(api)
    by_day = await _pages(api, "/api/ops/reports/usage?days=30", "skus", 2)
    by_month = await _pages(api, "/api/ops/reports/usage?days=30&by=month", "skus", 3)
    assert len(by_day) == 5
    assert [u["sku"] for u in by_day] == [u["sku"] for u in by_month]
    status, whole, _ = await api.call("GET", "/api/ops/reports/usage?days=30", operator)
    assert status == 200
    assert whole["skus"] == by_day
    for entry in by_month:
        assert sum(m["quantity"] for m in entry["months"]) == entry["total"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/ops/reconcile?limit=0", "limit"),
        ("/api/ops/reconcile?limit=1001", "limit"),
        ("/api/ops/reconcile?limit=5&cursor=nonsense", "cursor"),
        ("/api/ops/reconcile?cursor=WyJBIl0", "limit"),
        ("/api/ops/reports/usage?limit=x", "limit"),
        ("/api/ops/reports/usage?by=week", "by"),
        ("/api/ops/reports/waste?limit=5&cursor=WyJBIiwiQiJd", "cursor"),
        ("/api/ops/expiring?limit=5&cursor=WyJBIl0", "cursor"),
    ],
)
async def test_bad_paging_is_refused_naming_the_parameter(api: Api, path: str, name: str) -> None:
    status, problem, response = await api.call("GET", path, await api.operator())
    assert (status, response.content_type) == (400, "application/problem+json"), problem
    assert [error["field"] for error in problem["errors"]] == [name], problem

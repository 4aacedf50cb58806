"""Reading the catalog and the inventory a page at a time, and revalidating a page with
its ETag: a device or a dashboard never needs the whole store in one answer."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from tests.api.conftest import Api

LISTINGS = [("/api/catalog", "device"), ("/api/ops/inventory", "operator")]


async def _caller(api: Api, role: str) -> dict[str, str]:
    return await (api.device() if role == "device" else api.operator())


async def _pages(
    api: Api, path: str, who: dict[str, str], query: str, cursor: str | None = None
) -> list[list[Any]]:
    pages = []
    while True:
        url = f"{path}?{query}" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = await api.call("GET", url, who)
        assert status == 200, page
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ends"


@pytest.mark.parametrize(("path", "role"), LISTINGS)
async def test_pages_hold_every_product_once_in_shelf_order(api: Api, path: str, role: str) -> None:
    who = await _caller(api, role)
    status, whole, _ = await api.call("GET", path, who)
    assert status == 200
    assert whole["next_cursor"] is None  # an old client's one answer: everything
    pages = await _pages(api, path, who, "limit=10")
    assert [len(page) for page in pages[:-1]] == [10] * (len(pages) - 1)
    paged = [item["sku"] for page in pages for item in page]
    assert paged == [item["sku"] for item in whole["items"]]
    assert paged == [i["sku"] for i in sorted(whole["items"], key=lambda i: (i["aisle"], i["sku"]))]


async def test_a_page_after_stock_and_products_changed_skips_and_repeats_nothing(
    api: Api,
) -> None:
    operator = await api.operator()
    _, first, _ = await api.call("GET", "/api/ops/inventory?limit=20", operator)
    shown = [item["sku"] for item in first["items"]]
    # Stock moves on both sides of the cursor, and a product is added before it.
    for sku in (shown[0], shown[-1], "PRO-012"):
        adjust = {"delta": -3, "reason": "WASTE"}
        status, _, _ = await api.call("POST", f"/api/ops/stock/{sku}/adjust", operator, json=adjust)
        assert status == 200
    product = {
        "sku": "BRD-000",
        "name": "First loaf",
        "aisle": "bread",
        "unit": "loaf",
        "price": "2.00",
        "unit_cost": "1.00",
        "min_level": 0,
        "on_hand": 5,
    }
    assert (await api.call("POST", "/api/ops/products", operator, json=product))[0] == 201
    rest = await _pages(api, "/api/ops/inventory", operator, "limit=20", first["next_cursor"])
    after = [item["sku"] for page in rest for item in page]
    _, whole, _ = await api.call("GET", "/api/ops/inventory", operator)
    everything = [item["sku"] for item in whole["items"]]
    assert after == everything[everything.index(shown[-1]) + 1 :]
    assert not set(after) & set(shown)
    assert "BRD-000" in everything  # it is listed to whoever starts from the beginning


async def test_filters_narrow_the_pages(api: Api) -> None:
    device, operator = await api.device(), await api.operator()
    pages = await _pages(api, "/api/catalog", device, "limit=4&aisle=dairy")
    dairy = [item for page in pages for item in page]
    assert len(dairy) == 11
    assert {item["aisle"] for item in dairy} == {"dairy"}
    pages = await _pages(api, "/api/catalog", device, "limit=2&category=Drinks")
    assert {item["category"] for page in pages for item in page} == {"drinks"}
    assert sum(len(page) for page in pages) == 5
    _, found, _ = await api.call("GET", "/api/ops/inventory?sku=brd-01&limit=50", operator)
    assert [item["sku"] for item in found["items"]] == ["BRD-010", "BRD-011"]

    pages = await _pages(api, "/api/ops/inventory", operator, "limit=4&sku=Brd")
    assert [item["sku"] for page in pages for item in page] == [f"BRD-{n:03}" for n in range(1, 12)]

    _, low, _ = await api.call("GET", "/api/ops/inventory?below_min=true&limit=50", operator)
    assert low["items"] == []
    for sku in ("MEA-003", "DAI-002", "BRD-004"):
        _, item, _ = await api.call("GET", f"/api/ops/inventory?sku={sku}&limit=1", operator)
        waste = {"delta": -item["items"][0]["available"], "reason": "WASTE"}
        status, _, _ = await api.call("POST", f"/api/ops/stock/{sku}/adjust", operator, json=waste)
        assert status == 200
    pages = await _pages(api, "/api/ops/inventory", operator, "below_min=true&limit=1")
    assert [item["sku"] for page in pages for item in page] == ["BRD-004", "DAI-002", "MEA-003"]
    _, low, _ = await api.call("GET", "/api/ops/inventory?below_min=true&aisle=dairy", operator)
    assert [item["sku"] for item in low["items"]] == ["DAI-002"]


async def test_search_results_page_by_rank(api: Api) -> None:
    device = await api.device()
    _, whole, _ = await api.call("GET", "/api/catalog?q=bread", device)
    assert len(whole["items"]) >= 3
    pages = await _pages(api, "/api/catalog", device, "q=bread&limit=2")
    assert [item["sku"] for page in pages for item in page] == [
        item["sku"] for item in whole["items"]
    ]
    _, first, _ = await api.call("GET", "/api/catalog?q=bread&limit=2", device)
    status, problem, _ = await api.call(
        "GET", f"/api/catalog?q=milk&limit=2&cursor={first['next_cursor']}", device
    )
    assert status == 400
    assert problem["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("limit=5&cursor=not-a-cursor", "cursor"),
        ("limit=5&cursor=WyJrIl0", "cursor"),  # ["k"]: ours in form, not in content
        ("below_min=maybe", "below_min"),
    ],
)
async def test_a_bad_page_request_is_a_400_naming_the_parameter(
    api: Api, query: str, field: str
) -> None:
    status, problem, response = await api.call(
        "GET", f"/api/ops/inventory?{query}", await api.operator()
    )
    assert status == 400
    assert response.content_type == "application/problem+json"
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_an_unchanged_page_revalidates_to_304_and_a_changed_one_does_not(
    api: Api,
) -> None:
    device, operator = await api.device(), await api.operator()
    status, page, response = await api.call("GET", "/api/catalog?limit=10", device)
    tag = response.headers["ETag"]
    assert status == 200
    assert tag.startswith('"')
    _, last, last_response = await api.call("GET", "/api/catalog?aisle=produce&limit=50", device)
    for sent in (tag, f"W/{tag}", f'"other", {tag}'):
        status, body, response = await api.call(
            "GET", "/api/catalog?limit=10", {**device, "If-None-Match": sent}
        )
        assert (status, body) == (304, b"")
        assert response.headers["ETag"] == tag
    # Stock sold on another page leaves this one's tag alone; on this page it changes it.
    order = {"items": [{"sku": last["items"][0]["sku"], "quantity": 1}]}
    assert (await api.call("POST", "/api/orders/preview", device, json=order))[0] == 201
    again = {**device, "If-None-Match": tag}
    assert (await api.call("GET", "/api/catalog?limit=10", again))[0] == 304
    status, _, _ = await api.call(
        "GET",
        "/api/catalog?aisle=produce&limit=50",
        {**device, "If-None-Match": last_response.headers["ETag"]},
    )
    assert status == 200
    sku = page["items"][0]["sku"]
    waste = {"delta": -1, "reason": "WASTE"}
    assert (await api.call("POST", f"/api/ops/stock/{sku}/adjust", operator, json=waste))[0] == 200
    status, changed, response = await api.call("GET", "/api/catalog?limit=10", again)
    assert status == 200
    assert changed["items"][0]["available"] == page["items"][0]["available"] - 1
    assert response.headers["ETag"] != tag


async def test_search_sees_products_renamed_added_and_sold_at_once(api: Api) -> None:
    device, operator = await api.device(), await api.operator()
    _, before, _ = await api.call("GET", "/api/catalog?q=sourdough&limit=5", device)
    assert before["items"][0]["sku"] == "BRD-001"  # the products are built and kept
    rename = {"name": "Zebra loaf"}
    assert (await api.call("PATCH", "/api/ops/products/BRD-001", operator, json=rename))[0] == 200
    _, found, _ = await api.call("GET", "/api/catalog?q=zebra&limit=5", device)
    assert [item["sku"] for item in found["items"]] == ["BRD-001"]
    product = {
        "sku": "BRD-950",
        "name": "Quokka bun",
        "aisle": "bread",
        "unit": "bun",
        "price": "0.80",
        "unit_cost": "0.40",
        "min_level": 0,
        "on_hand": 9,
    }
    assert (await api.call("POST", "/api/ops/products", operator, json=product))[0] == 201
    _, found, _ = await api.call("GET", "/api/catalog?q=quokka&limit=5", device)
    assert [(item["sku"], item["available"]) for item in found["items"]] == [("BRD-950", 9)]
    order = {"items": [{"sku": "BRD-950", "quantity": 4}]}
    assert (await api.call("POST", "/api/orders/preview", device, json=order))[0] == 201
    _, found, _ = await api.call("GET", "/api/ops/inventory?q=quokka&below_min=false", operator)
    assert [(item["sku"], item["available"]) for item in found["items"]] == [("BRD-950", 5)]


async def test_a_search_cursor_forged_far_past_any_catalog_is_a_400(api: Api) -> None:
    device = await api.device()
    _, first, _ = await api.call("GET", "/api/catalog?q=-&limit=1", device)
    kind, _, fingerprint = orjson.loads(
        base64.urlsafe_b64decode(first["next_cursor"] + "=" * (-len(first["next_cursor"]) % 4))
    )
    forged = base64.urlsafe_b64encode(orjson.dumps([kind, 2**63, fingerprint])).decode()
    status, problem, _ = await api.call(
        "GET", f"/api/catalog?q=-&limit=1&cursor={forged.rstrip('=')}", device
    )
    assert status == 400
    assert problem["errors"][0]["field"] == "cursor"

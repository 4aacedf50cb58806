"""Catalog search stays fresh: a product an operator adds or renames is found by the
next search, and a change of stock or price shows in the hits without a new index."""

from __future__ import annotations

from autogrocery.api.state import STATE
from tests.api.conftest import Api, ApiFactory
from tests.waiting import eventually


async def skus(api: Api, query: str, caller: dict[str, str]) -> list[str]:
    status, body, _ = await api.call("GET", f"/api/catalog?q={query}", caller)
    assert status == 200
    return [item["sku"] for item in body["items"]]


async def test_an_added_or_renamed_product_is_found_by_the_next_search(api: Api) -> None:
    operator, device = await api.operator(), await api.device()
    assert await skus(api, "pumpernickel", device) == []
    product = {
        "sku": "BRD-901",
        "name": "Pumpernickel loaf",
        "aisle": "bread",
        "unit": "loaf",
        "price": "4.10",
        "unit_cost": "2.00",
        "min_level": 5,
        "on_hand": 12,
    }
    assert (await api.call("POST", "/api/ops/products", operator, json=product))[0] == 201
    assert await skus(api, "pumpernickel", device) == ["BRD-901"]
    assert (await skus(api, "pumpernikel", device))[:1] == ["BRD-901"]  # a typo too

    searching = api.client.server.app[STATE].system.described
    builds = searching.builds
    assert (await api.call("PATCH", "/api/ops/products/BRD-901", operator, json={"price": "4.50"}))[
        0
    ] == 200
    _, body, _ = await api.call("GET", "/api/catalog?q=pumpernickel", device)
    assert [(i["sku"], i["price"], i["available"]) for i in body["items"]] == [
        ("BRD-901", "4.50", 12)
    ]
    assert searching.builds == builds  # a price is not a description: the same index

    renamed = {"name": "Dark rye loaf"}
    assert (await api.call("PATCH", "/api/ops/products/BRD-901", operator, json=renamed))[0] == 200
    assert await skus(api, "pumpernickel", device) == []
    assert await skus(api, "dark rye", device) == ["BRD-901"]


async def test_a_stock_command_finds_a_product_added_a_moment_ago(api: Api) -> None:
    operator = await api.operator()
    product = {
        "sku": "BRD-902",
        "name": "Spelt rolls",
        "aisle": "bread",
        "unit": "pack",
        "price": "2.10",
        "unit_cost": "1.00",
        "min_level": 2,
        "on_hand": 7,
    }
    assert (await api.call("POST", "/api/ops/products", operator, json=product))[0] == 201
    status, asked, _ = await api.call(
        "POST", "/api/ops/commands", operator, json={"text": "threw away 2 spelt rolls"}
    )
    assert status == 200, asked
    assert (asked["status"], asked["question"]) == ("question", "confirm")
    assert "Spelt rolls" in asked["text"]


async def test_the_index_is_built_at_start_not_by_the_first_search(api: Api) -> None:
    searching = api.client.server.app[STATE].system.described
    await eventually(lambda: searching.builds == 1, within=10, what="the index built")
    assert await skus(api, "cola", await api.device())
    assert searching.builds == 1


async def test_without_an_index_at_start_the_first_search_builds_it(
    make_api: ApiFactory,
) -> None:
    api = await make_api("api.search_index_at_start=false")
    searching = api.client.server.app[STATE].system.described
    device = await api.device()
    assert searching.builds == 0  # the store is ready and nothing built it
    assert await skus(api, "cola", device)
    assert searching.builds == 1
    assert await skus(api, "cola", device)
    assert searching.builds == 1  # kept for the next search

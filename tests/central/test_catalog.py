"""Catalog versions: published once at the head office, they only grow, and reach every
store (one that was down too), one at a time and in order."""

from __future__ import annotations

from typing import Any

from autogrocery.chain.protocol import CatalogProduct, CatalogVersion, Facts, Level, down_stream
from tests.central.conftest import Central
from tests.central.leaf import Leaf
from tests.waiting import eventually


async def publish(central: Central, *products: dict[str, Any]) -> tuple[int, Any]:
    return await central.call("POST", "/api/chain/catalog", json={"products": list(products)})


async def catalog_in(leaf: Leaf, count: int) -> list[CatalogVersion]:
    """The versions in the store's DOWN_ stream, in the order they were stored."""

    async def check() -> list[tuple[int, CatalogVersion]]:
        found = []
        jsm = leaf.nc.jsm()
        for subject, message in (await leaf.received()).items():
            if ".catalog." in subject:
                raw = await jsm.get_last_msg(down_stream(leaf.store_id), subject)
                found.append((raw.seq, message))
        return sorted(found, key=lambda pair: pair[0]) if len(found) == count else []

    return [version for _, version in await eventually(check, within=15, every=0.05)]


async def test_versions_grow_and_reach_every_store_in_order(central: Central) -> None:
    north = await central.leaf("north")
    await north.publish(Facts(levels=[Level("BRD-001", 5, 0)]))
    central.enroll("south")  # enrolled, its leaf not started yet: down
    await eventually(lambda: _known(central, "BRD-001"), within=15, every=0.05)
    first = await publish(central, {"sku": "BRD-001", "price": "3.20"})
    second = await publish(
        central,
        {"sku": "NEW-001", "name": "  Sourdough ", "aisle": "bread", "price": "5", "unit": "loaf"},
        {"sku": "BRD-001", "unit_cost": "1.10", "name_he": "לחם"},
    )
    third = await publish(central, {"sku": "NEW-001", "price": "4.99", "keywords": ["bread"]})
    assert [first, second, third] == [(201, {"version": n}) for n in (1, 2, 3)]
    expected = [
        CatalogVersion(1, [CatalogProduct("BRD-001", price=320)]),
        CatalogVersion(
            2,
            [
                CatalogProduct("NEW-001", name="Sourdough", aisle="bread", unit="loaf", price=500),
                CatalogProduct("BRD-001", unit_cost=110, name_he="לחם"),
            ],
        ),
        CatalogVersion(3, [CatalogProduct("NEW-001", price=499, keywords=["bread"])]),
    ]
    assert await catalog_in(north, 3) == expected  # stored in the order of their versions
    south = await central.leaf("south", enroll=False)
    assert await catalog_in(south, 3) == expected  # the store that was down gets them all
    await north.publish(Facts(catalog_version=3))

    async def reported() -> bool:
        return (await central.store("north"))["catalog_version"] == 3

    await eventually(reported, within=15, every=0.05)
    assert (await central.store("south"))["catalog_version"] == 0
    _, new = await central.call("GET", "/api/chain/stock?sku=NEW-001")
    assert new == {"sku": "NEW-001", "total_on_hand": 0, "stores": []}  # known to the chain


async def test_a_version_is_validated_before_it_exists(central: Central) -> None:
    for products, field in (
        ([{"sku": "NEW-9", "price": "1.00"}], "products[0].name"),  # a new SKU: name, aisle
        ([{"sku": "NEW-9", "name": "x", "aisle": "a", "price": "0"}], "products[0].price"),
        ([{"sku": "NEW-9", "name": "x", "aisle": "a", "price": "1.001"}], "products[0].price"),
        ([{"sku": "NEW-9", "name": "x", "aisle": "a", "price": 1.5}], "products[0].price"),
        ([{"sku": "NEW-9", "name": " ", "aisle": "a", "price": "1"}], "products[0].name"),
        ([{"sku": "A", "name": "x", "aisle": "a", "price": "1"}] * 2, "products[1].sku"),
        ([{"sku": "A", "colour": "red"}], "products[0].colour"),
        ([], "products"),
    ):
        status, problem = await publish(central, *products)
        assert status == 400, (products, problem)
        assert problem["errors"][0]["field"] == field, problem
    key = {"Idempotency-Key": "catalog-1"}
    body = {"products": [{"sku": "A", "name": "Apple", "aisle": "produce", "price": "0.50"}]}
    first = await central.call("POST", "/api/chain/catalog", json=body, headers=key)
    again = await central.call("POST", "/api/chain/catalog", json=body, headers=key)
    assert first == again == (201, {"version": 1})  # a retry makes no second version
    assert await publish(central, {"sku": "A", "price": "0.55"}) == (201, {"version": 2})


async def _known(central: Central, sku: str) -> bool:
    status, _ = await central.call("GET", f"/api/chain/stock?sku={sku}")
    return status == 200

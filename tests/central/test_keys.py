"""A transfer or a catalog version made under an Idempotency-Key carries the key, in its
own commit: a retry whose answer the API could not note (a full disk) still makes no
second one, and gets the first answer again."""

from __future__ import annotations

import sqlite3

from autogrocery.api.core import CORE
from tests.central.conftest import Central
from tests.central.test_transfers import BREAD, stores_with_stock


def lose_notes(central: Central) -> list[str]:
    """The API's note of each answer fails from now on, as on a full disk; the routes
    whose notes were tried."""
    assert central.service.app is not None
    tables = central.service.app[CORE].tables
    tried: list[str] = []

    async def full(user_id: str, key: str, route: str, *rest: object) -> None:
        tried.append(route)
        raise sqlite3.OperationalError("database or disk is full")

    tables.remember = full
    return tried


async def test_a_retried_transfer_whose_answer_was_lost_is_requested_once(
    central: Central,
) -> None:
    await stores_with_stock(central)
    tried = lose_notes(central)
    key = {"Idempotency-Key": "transfer-lost-1"}
    payload = {"from_store": "north", "to_store": "south", "items": [{"sku": BREAD, "quantity": 2}]}
    first = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    again = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    _, listed = await central.call("GET", "/api/chain/transfers")
    assert [t["transfer_id"] for t in listed["transfers"]] == [first[1]["transfer_id"]]
    assert tried == [], "the transfer is the request's record: no note to lose"
    other = {**payload, "items": [{"sku": BREAD, "quantity": 3}]}
    status, problem = await central.call("POST", "/api/chain/transfers", json=other, headers=key)
    assert status == 422, problem


async def test_a_retried_catalog_whose_answer_was_lost_is_published_once(
    central: Central,
) -> None:
    tried = lose_notes(central)
    key = {"Idempotency-Key": "catalog-lost-1"}
    body = {"products": [{"sku": "A", "name": "Apple", "aisle": "produce", "price": "0.50"}]}
    first = await central.call("POST", "/api/chain/catalog", json=body, headers=key)
    again = await central.call("POST", "/api/chain/catalog", json=body, headers=key)
    assert first == again == (201, {"version": 1})
    assert tried == []
    other = {"products": [{"sku": "A", "price": "0.55"}]}
    status, problem = await central.call("POST", "/api/chain/catalog", json=other, headers=key)
    assert status == 422, problem
    unkeyed = await central.call("POST", "/api/chain/catalog", json=other)
    assert unkeyed == (201, {"version": 2})


async def test_a_transfers_key_for_a_catalog_is_422_and_publishes_nothing(
    central: Central,
) -> None:
    await stores_with_stock(central)
    key = {"Idempotency-Key": "k-1"}
    payload = {"from_store": "north", "to_store": "south", "items": [{"sku": BREAD, "quantity": 2}]}
    status, _ = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert status == 201
    body = {"products": [{"sku": "A", "name": "Apple", "aisle": "produce", "price": "0.50"}]}
    status, problem = await central.call("POST", "/api/chain/catalog", json=body, headers=key)
    assert status == 422, problem
    assert await central.call("POST", "/api/chain/catalog", json=body) == (201, {"version": 1})


async def test_a_transfer_refused_under_a_key_is_its_answer(central: Central) -> None:
    await stores_with_stock(central)
    key = {"Idempotency-Key": "same-store"}
    payload = {"from_store": "north", "to_store": "north", "items": [{"sku": BREAD, "quantity": 1}]}
    first = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert first[0] == 400
    good = {**payload, "to_store": "south"}
    status, problem = await central.call("POST", "/api/chain/transfers", json=good, headers=key)
    assert status == 422, problem


async def test_a_key_is_its_accounts_not_its_names(central: Central) -> None:
    """An operator deleted and made again under the same name is another account: the
    old one's keys are not the new one's."""
    await stores_with_stock(central)
    key = {"Idempotency-Key": "name-reused"}
    payload = {"from_store": "north", "to_store": "south", "items": [{"sku": BREAD, "quantity": 1}]}
    first = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert first[0] == 201
    await central.sql("UPDATE transfers SET request_user = 'usr_gone'")
    again = await central.call("POST", "/api/chain/transfers", json=payload, headers=key)
    assert again[0] == 201
    assert again[1]["transfer_id"] != first[1]["transfer_id"]

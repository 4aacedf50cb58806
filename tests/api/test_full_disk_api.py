"""A full disk as clients see it: the API's own writes (register, login) and orders are
refused with 503 problem+json and Retry-After, /readyz says the store cannot be written,
/healthz stays 200 (no restart helps a full disk), and all works again once space is
freed. SQLite's size limit (`PRAGMA max_page_count`) on the store's one writing
connection is the full disk as SQLite sees it ("database or disk is full"): the API's
accounts are written through it too, like the actors' batches."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(60)

UNLIMITED = 1_073_741_823
ORDER = {"items": [{"sku": "BRD-001", "quantity": 1}]}


def set_limit(api: Api, pages: int | None) -> None:
    """`pages` None: the size the file has now (full), else that many pages."""
    execute = api.system.store_connection().execute
    limit = pages or int(execute("PRAGMA page_count").fetchone()[0])
    execute(f"PRAGMA max_page_count = {limit}")


async def test_a_full_disk_is_a_503_with_retry_after_everywhere_until_space_is_freed(
    api: Api,
) -> None:
    fridge = await api.device("fridge-1")
    set_limit(api, None)
    # fill what is left of the last page, so the next insert needs a new one
    refused = []
    for n in range(200):
        status, body, response = await api.call(
            "POST",
            "/api/auth/register",
            json={"username": f"fridge-{n + 2}", "password": "pw-pw-pw-1"},
        )
        if status != 201:
            refused.append((status, body, response))
            break
    assert refused, "the full disk was never hit"
    status, body, response = refused[0]
    assert status == 503, body
    assert response.content_type == "application/problem+json"
    assert "full" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0
    # A refused account write alone tells /readyz: the store has one writer.
    status, body, _ = await api.call("GET", "/readyz")
    assert status == 503
    assert any("full" in why for why in body["checks"].values()), body

    for _ in range(200):  # orders: refused the same way, never a 500
        status, body, response = await api.call("POST", "/api/orders/preview", fridge, json=ORDER)
        if status != 201:
            break
    assert status == 503, body
    assert int(response.headers["Retry-After"]) > 0

    status, body, response = await api.call("GET", "/readyz")
    assert status == 503
    assert any("full" in why for why in body["checks"].values()), body
    assert int(response.headers["Retry-After"]) > 0
    status, _, _ = await api.call("GET", "/healthz")
    assert status == 200, "a full disk is no reason to restart the process"

    set_limit(api, UNLIMITED)  # space freed: no restart needed

    async def ready() -> bool:
        return (await api.call("GET", "/readyz"))[0] == 200

    await eventually(ready, within=10)
    status, body, _ = await api.call(
        "POST", "/api/auth/register", json={"username": "fridge-after", "password": "pw-pw-pw-1"}
    )
    assert status == 201, body
    status, body, _ = await api.call("POST", "/api/orders/preview", fridge, json=ORDER)
    assert status == 201, body

"""The head office's HTTP API over real HTTP: auth, each endpoint's answers and 400s,
paging, the chain's time zone, lag, health, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from typing import Any

from openapi_spec_validator import validate

from autogrocery.api.core import CORE
from autogrocery.central.queries import lag
from autogrocery.chain.protocol import Facts, Level, Movement, OrderEnd
from tests.central.conftest import Central, CentralFactory
from tests.waiting import eventually


async def test_auth(central: Central) -> None:
    status, problem = await central.call("GET", "/api/chain/stores", auth=False)
    assert status == 401
    assert problem["status"] == 401
    status, _ = await central.call(
        "GET", "/api/chain/stores", auth=False, headers={"Authorization": "Bearer nope"}
    )
    assert status == 401
    assert central.service.app is not None
    auth = central.service.app[CORE].auth
    await auth.create_account("fridge-1", "fridge-pass-1", "device")
    tokens = await auth.login("fridge-1", "fridge-pass-1", "127.0.0.1")
    device = {"Authorization": f"Bearer {tokens['access_token']}"}
    for method, path in (("GET", "/api/chain/stores"), ("POST", "/api/chain/catalog")):
        status, problem = await central.call(method, path, auth=False, headers=device, json={})
        assert status == 403, problem
    status, _ = await central.call(
        "POST", "/api/auth/register", auth=False, json={"username": "x", "password": "y" * 8}
    )
    assert status == 404  # operators only: nobody registers at the head office
    status, _ = await central.call(
        "POST", "/api/auth/login", auth=False, json={"username": "admin", "password": "wrong-pw"}
    )
    assert status == 401
    status, me = await central.call("GET", "/api/auth/me")
    assert (status, me["username"], me["role"]) == (200, "admin", "operator")


async def test_store_status_up_down_never(make_central: CentralFactory) -> None:
    central = await make_central("central.store_timeout=1")
    central.enroll("east")
    north = await central.leaf("north")

    async def up() -> dict[str, Any]:
        await north.publish(Facts(on_hand_units=42), kind="heartbeat")  # as its relay does
        store = await central.store("north")
        return store if store["status"] == "up" else {}

    store = await eventually(up, within=15, every=0.3)
    assert store["on_hand_units"] == 42
    assert store["last_seen"] is not None
    assert (await central.store("east"))["status"] == "never"

    async def down() -> bool:
        return (await central.store("north"))["status"] == "down"

    await eventually(down, within=10, every=0.05)  # 1 s without a word


async def test_stock_by_sku_and_by_pages(central: Central) -> None:
    north = await central.leaf("north")
    south = await central.leaf("south")
    at = time.time() - 60
    await north.publish(Facts(levels=[Level(f"SKU-{n}", 10 + n, n) for n in range(5)]), at=at)
    await south.publish(Facts(levels=[Level("SKU-1", 3, 0), Level("SKU-9", 1, 0)]))

    async def both() -> dict[str, Any]:
        _, body = await central.call("GET", "/api/chain/stock?sku=SKU-1")
        return body if body.get("total_on_hand") == 14 else {}

    one = await eventually(both, within=15, every=0.05)
    assert [s["store_id"] for s in one["stores"]] == ["north", "south"]
    assert one["stores"][0]["as_of"].startswith(_rfc3339_day(at))
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        status, page = await central.call("GET", f"/api/chain/stock?limit=2&cursor={cursor}")
        assert status == 200
        pages += 1
        seen += [item["sku"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == ["SKU-0", "SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-9"]
    assert pages == 3
    for query in ("sku=NOPE", "limit=0", "limit=501", "cursor=%%%", "limit=x"):
        status, problem = await central.call("GET", f"/api/chain/stock?{query}")
        assert status == (404 if query == "sku=NOPE" else 400), (query, problem)


async def test_sales_are_days_of_the_chains_time_zone(make_central: CentralFactory) -> None:
    central = await make_central("central.time_zone=Asia/Jerusalem")
    north = await central.leaf("north")
    # 23:30 UTC on 1 March is 01:30 on 2 March in Jerusalem.
    late = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC).timestamp()
    await north.publish(
        Facts(
            orders=[
                OrderEnd("o1", "CUSTOMER", "COMPLETED", 1240, 2, late),
                OrderEnd("o2", "CUSTOMER", "FAILED", 999, 1, late),
                OrderEnd("r1", "RESTOCK", "COMPLETED", 5000, 9, late),
            ],
            movements=[Movement("MLK-1", "WASTE", -3, None, "MLK-1/2026-03-01", 95, late)],
        ),
        kind="orders",
    )
    await eventually(lambda: _applied(central, "north"), within=15, every=0.05)
    _, day2 = await central.call("GET", "/api/chain/sales?from=2026-03-02&to=2026-03-02")
    assert day2["time_zone"] == "Asia/Jerusalem"
    assert day2["stores"] == [
        {"store_id": "north", "completed_orders": 1, "revenue": "12.40", "waste_value": "2.85"}
    ]
    _, day1 = await central.call("GET", "/api/chain/sales?from=2026-03-01&to=2026-03-01")
    assert day1["stores"][0]["completed_orders"] == 0
    _, today = await central.call("GET", "/api/chain/sales")
    assert today["from"] == today["to"]
    for query in (
        "from=2026-3-1",
        "from=2026-03-05&to=2026-03-01",
        "to=tomorrow",
        "from=1900-01-01",
    ):
        status, _ = await central.call("GET", f"/api/chain/sales?{query}")
        assert status == 400, query


async def test_lag_counts_what_waits_in_the_leaf_stream(central: Central) -> None:
    worker = central.service.worker
    assert worker is not None
    assert worker.applier is not None
    applier = worker.applier
    gate = threading.Event()
    real = applier._apply

    async def held(batch: Any) -> Any:
        await asyncio.to_thread(gate.wait, 30)  # the applier waits; the rest runs on
        return await real(batch)

    applier._apply = held  # type: ignore[method-assign]
    north = await central.leaf("north")
    for n in range(3):
        await north.publish(Facts(levels=[Level("A", n, 0)]))

    async def behind() -> bool:
        return (await central.store("north"))["lag_events"] == 3

    try:
        await eventually(behind, within=15, every=0.05)
    finally:
        gate.set()

    async def caught_up() -> bool:
        store = await central.store("north")
        return store["lag_events"] == 0 and (await central.stats("north"))["last_seq"] == 3

    await eventually(caught_up, within=15, every=0.05)
    assert lag({"leaf_last_seq": None, "leaf_stream": None, "stream": None, "stream_seq": 0}) == 0
    assert (
        lag({"leaf_last_seq": 7, "leaf_stream": "UP_a_2", "stream": "UP_a_1", "stream_seq": 9}) == 7
    )


async def test_operations_health_metrics_and_docs(central: Central) -> None:
    status, health = await central.call("GET", "/healthz", auth=False)
    assert (status, health) == (200, {"status": "ok", "role": "head-office"})

    async def ready() -> dict[str, Any]:
        status, body = await central.call("GET", "/readyz", auth=False)
        return body if status == 200 else {}

    body = await eventually(ready, within=15, every=0.05)
    assert {"hub", "read model", "hub link", "applier"} <= set(body["checks"])
    north = await central.leaf("north")
    await north.publish(Facts(levels=[Level("A", 1, 0)]))
    await eventually(lambda: _applied(central, "north"), within=15, every=0.05)
    status, metrics = await central.call("GET", "/metrics", auth=False)
    assert status == 200
    for line in (
        b'autogrocery_chain_store_up{store="north"} 1.0',
        b'autogrocery_chain_store_events_applied_total{store="north"} 1.0',
        b'autogrocery_chain_store_lag_events{store="north"}',
        b'autogrocery_chain_store_last_seen_timestamp_seconds{store="north"}',
        b'autogrocery_chain_transfers{status="REQUESTED"} 0.0',
        b"autogrocery_http_requests_total",
    ):
        assert line in metrics, line
    status, page = await central.call("GET", "/docs", auth=False)
    assert status == 200
    assert b"redoc" in page
    _, document = await central.call("GET", "/api/openapi.json", auth=False)
    validate(document)
    assert document["info"]["title"] == "autogrocery head office"
    assert "/api/chain/transfers/{transfer_id}" in document["paths"]
    assert "/api/auth/register" not in document["paths"]
    assert "lag_events" in document["info"]["description"]


async def test_readyz_says_when_the_hub_is_gone(central: Central) -> None:
    hub = central.service.hub
    assert hub is not None
    assert hub.server is not None
    await asyncio.get_running_loop().run_in_executor(None, hub.server.stop)
    status, body = await central.call("GET", "/readyz", auth=False)
    assert status == 503
    assert body["checks"]["hub"] != "ok"


def _rfc3339_day(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d")


async def _applied(central: Central, store: str) -> bool:
    return (await central.stats(store))["events_applied"] >= 1

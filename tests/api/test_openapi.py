"""The OpenAPI document: generated at start-up from the typed models, valid, complete,
and what the server really does (every answer in the API tests is checked against it)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from aiohttp import web
from openapi_spec_validator import validate

from autogrocery.chain import desk
from autogrocery.chain.protocol import Ship, TransferItem
from tests.api.conftest import Api, ApiFactory
from tests.chain.stores import linked, write_join
from tests.helpers import wait_final
from tests.waiting import eventually
from tests.webhook_receiver import Receiver

METHODS = {"get", "post", "put", "patch", "delete"}
PAGE_ASSETS = {("get", "/docs/redoc.standalone.js"), ("get", "/favicon.ico")}


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method.lower() in METHODS and route.resource is not None
    }


async def test_the_generated_document_is_valid_openapi_3_1_covering_every_route(
    api: Api,
) -> None:
    status, document, response = await api.call("GET", "/api/openapi.json")
    assert status == 200
    assert response.content_type == "application/json"
    assert document["openapi"] == "3.1.0"
    validate(document)  # openapi-spec-validator: raises on any fault
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }
    served = served_routes(api.client.app)
    assert served - documented == PAGE_ASSETS, "served but not documented"
    assert documented - served == set(), "documented but not served"
    # Relative: right on whatever host and port the store was bound to.
    assert document["servers"] == [
        {"url": "/", "description": document["servers"][0]["description"]}
    ]
    assert not resources.files("autogrocery.api").joinpath("openapi.json").is_file()
    for ref in _refs(document):  # extensions included (x-websocket-message)
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


async def test_documented_error_statuses_cover_the_contract(api: Api) -> None:
    _, document, _ = await api.call("GET", "/api/openapi.json")
    preview = document["paths"]["/api/orders/preview"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "413", "415", "422", "503"} <= set(preview)
    confirm = document["paths"]["/api/orders/{order_id}/confirm"]["post"]["responses"]
    assert {"200", "202", "401", "403", "404", "409", "503"} <= set(confirm)
    login = document["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"200", "400", "401", "413", "415", "429"} <= set(login)


async def test_the_document_states_the_configured_limits_and_they_hold(
    make_api: ApiFactory,
) -> None:
    api = await make_api("orders.max_quantity=7", "orders.max_lines=2")
    _, document, _ = await api.call("GET", "/api/openapi.json")
    schemas = document["components"]["schemas"]
    assert schemas["OrderLineRequest"]["properties"]["quantity"]["maximum"] == 7
    assert schemas["PreviewRequest"]["properties"]["items"]["maxItems"] == 2
    device = await api.device()
    too_many = {"items": [{"sku": "BRD-001", "quantity": 8}]}
    with pytest.raises(jsonschema.ValidationError):
        api.contract.validate(too_many, {"$ref": "#/components/schemas/PreviewRequest"})
    status, problem, _ = await api.call("POST", "/api/orders/preview", device, json=too_many)
    assert status == 400
    assert problem["errors"][0]["field"] == "items[0].quantity"


# (body, the field a 400 names, words its message has): each is also refused by the
# request schema the document publishes, so a client that validates first never sends it.
BAD_PREVIEWS = [
    ({"items": [{"sku": "BRD-001", "quantity": "2"}]}, "items[0].quantity", "integer"),
    ({"items": [{"sku": "BRD-001", "quantity": 0}]}, "items[0].quantity", "at least 1"),
    ({"items": [{"sku": "BRD-001"}]}, "items[0].quantity", "required"),
    ({"items": [{"sku": "BRD-001", "quantity": 1, "price": 1}]}, "items[0].price", "unknown"),
    ({"items": []}, "items", "at least 1"),
    ({"items": [{"sku": "", "quantity": 1}]}, "items[0].sku", "must match"),
    ({}, "items", "required"),
    ({"items": [{"sku": "BRD-001", "quantity": 1}], "coupon": "X"}, "coupon", "unknown field"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_PREVIEWS)
async def test_bad_input_names_the_field_and_the_schema_says_the_same(
    api: Api, body: dict, field: str, words: str
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        api.contract.validate(body, {"$ref": "#/components/schemas/PreviewRequest"})
    device = await api.device()
    status, problem, _ = await api.call("POST", "/api/orders/preview", device, json=body)
    assert status == 400
    assert problem["errors"][0]["field"] == field
    assert words in problem["errors"][0]["message"]
    assert problem["detail"].startswith(field)


async def test_enum_fields_list_what_they_accept(api: Api) -> None:
    operator = await api.operator()
    status, problem, _ = await api.call(
        "POST", "/api/ops/stock/BRD-001/adjust", operator, json={"delta": 1, "reason": "LOST"}
    )
    assert status == 400
    assert problem["errors"] == [
        {"field": "reason", "message": "must be one of ADJUST, COUNT, WASTE"}
    ]


async def test_a_caller_without_a_token_learns_nothing_about_the_body(api: Api) -> None:
    status, problem, _ = await api.call("POST", "/api/orders/preview", json={"nope": 1})
    assert status == 401
    assert "errors" not in problem


async def test_every_operation_answers_as_documented(
    api: Api, make_api: ApiFactory, tmp_path: Path
) -> None:
    """One tour of every operation with a success answer; each answer goes through the
    contract check, and the tour must have covered every documented operation (a
    chain's on a second store that is in one)."""
    credentials = {"username": "fridge-7", "password": "fridge-pass-7"}
    assert (await api.call("POST", "/api/auth/register", json=credentials))[0] == 201
    _, tokens, _ = await api.call("POST", "/api/auth/login", json=credentials)
    device = {"Authorization": f"Bearer {tokens['access_token']}"}
    truck, operator = await api.truck(), await api.operator()
    calls: list[tuple[str, str, dict[str, str], dict | None]] = [
        ("GET", "/healthz", {}, None),
        ("GET", "/readyz", {}, None),
        ("GET", "/metrics", {}, None),
        ("GET", "/api/openapi.json", {}, None),
        ("GET", "/docs", {}, None),
        ("GET", "/", {}, None),
        ("GET", "/api/auth/me", device, None),
        ("GET", "/api/catalog", device, None),
        ("GET", "/api/ops/inventory", operator, None),
        ("GET", "/api/ops/robots", operator, None),
        ("GET", "/api/ops/analytics", operator, None),
        ("GET", "/api/ops/reconcile", operator, None),
        ("GET", "/api/ops/alerts", operator, None),
        ("GET", "/api/ops/expiring?within=30d", operator, None),
        ("GET", "/api/ops/reports/usage?days=3", operator, None),
        ("GET", "/api/ops/reports/waste?from=2026-01-01&to=2026-01-31", operator, None),
        ("GET", "/api/ops/reports/reorder", operator, None),
        ("GET", "/api/ops/movements?limit=2", operator, None),
        (
            "POST",
            "/api/ops/accounts",
            operator,
            {"username": "truck-9", "password": "truck-pass-9", "role": "truck"},
        ),
        ("POST", "/api/ops/accounts/truck-9/disable", operator, None),
        ("POST", "/api/ops/accounts/truck-9/enable", operator, None),
        (
            "POST",
            "/api/ops/products",
            operator,
            {
                "sku": "BRD-900",
                "name": "Rye",
                "aisle": "bread",
                "unit": "loaf",
                "price": "3.20",
                "unit_cost": "2.00",
                "min_level": 2,
                "on_hand": 5,
            },
        ),
        ("PATCH", "/api/ops/products/BRD-900", operator, {"price": "3.30"}),
        (
            "POST",
            "/api/ops/stock/BRD-900/adjust",
            operator,
            {"delta": -1, "reason": "WASTE", "note": "dropped"},
        ),
        ("POST", "/api/ops/commands", operator, {"text": "threw away 1 rye"}),
    ]
    for method, path, headers, body in calls:
        status, _, _ = await api.call(method, path, headers, json=body)
        assert status < 400, (method, path, status)
    receiver = await Receiver().start()
    hook = {"url": receiver.url("hook"), "events": ["alert.raised"]}
    _, webhook, _ = await api.call("POST", "/api/ops/webhooks", operator, json=hook)
    one = f"/api/ops/webhooks/{webhook['webhook_id']}"
    _, pinged, _ = await api.call("POST", f"{one}/ping", operator)
    await receiver.wait("hook", 1)
    again = f"{one}/deliveries/{pinged['delivery_id']}/redeliver"

    async def redelivered() -> bool:  # 409 until the store has recorded the ping delivered
        return (await api.call("POST", again, operator))[0] == 202

    await eventually(redelivered, within=10)
    await receiver.stop()
    for method, path, body in [
        ("GET", "/api/ops/webhooks", None),
        ("GET", one, None),
        ("PATCH", one, {"paused": True}),
        ("GET", f"{one}/deliveries", None),
        ("DELETE", one, None),
        ("GET", "/api/ops/notifications/preferences", None),
        ("PUT", "/api/ops/notifications/preferences", {"email": None, "events": []}),
    ]:
        assert (await api.call(method, path, operator, json=body))[0] < 300, (method, path)
    line = {"items": [{"sku": "BRD-001", "quantity": 1}]}
    _, kept, _ = await api.call("POST", "/api/orders/preview", device, json=line)
    _, dropped, _ = await api.call("POST", "/api/orders/preview", device, json=line)
    await api.call("POST", f"/api/orders/{dropped['order_id']}/cancel", device)
    assert (await api.call("POST", f"/api/orders/{kept['order_id']}/confirm", device))[0] == 202
    assert (await api.call("POST", f"/api/orders/{kept['order_id']}/confirm", device))[0] == 200
    _, receipt, _ = await api.call(
        "POST",
        "/api/restocks",
        truck,
        json={"items": [{"sku": "BRD-001", "quantity": 3, "unit_cost": "2.5"}]},
    )
    await wait_final(api.system, [kept["order_id"]], restocks=[receipt["restock_id"]])
    for method, path, headers in [
        ("GET", f"/api/orders/{kept['order_id']}", device),
        ("GET", f"/api/orders/{kept['order_id']}/history", device),
        ("GET", "/api/orders?limit=1", device),
        ("GET", f"/api/restocks/{receipt['restock_id']}", truck),
        ("GET", "/api/restocks", operator),
    ]:
        assert (await api.call(method, path, headers))[0] == 200
    dated = {"sku": "BRD-900", "quantity": 2, "unit_cost": "1.00", "expiry_date": "2099-01-01"}
    _, fresh_lot, _ = await api.call("POST", "/api/restocks", truck, json={"items": [dated]})
    await wait_final(api.system, [], restocks=[fresh_lot["restock_id"]])
    markdown = f"/api/ops/lots/{fresh_lot['restock_id']}%2FBRD-900%2F2099-01-01/markdown"
    for method, path, body in (
        ("POST", markdown, {"price": "0.01"}),
        ("GET", "/api/ops/reports/at-risk?limit=5", None),
        ("GET", "/api/ops/markdowns", None),
        ("DELETE", markdown, None),
    ):
        assert (await api.call(method, path, operator, json=body))[0] == 200, path
    assert (await api.call("POST", "/api/auth/logout", device, json={"refresh_token": "x" * 8}))[
        0
    ] == 401
    _, fresh, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert (
        await api.call(
            "POST", "/api/auth/logout", device, json={"refresh_token": fresh["refresh_token"]}
        )
    )[0] == 204
    chained = await make_api("robots.per_aisle=1", f"chain.join={write_join(tmp_path / 'j', 'n')}")
    async with linked(chained.config, chained.system):
        ops = await chained.operator()
        await desk.ship(chained.system, Ship("tr-1", "s", [TransferItem("BRD-001", 1)]))
        for path in ("/api/ops/chain", "/api/ops/transfers", "/api/ops/transfers/tr-1"):
            assert (await chained.call("GET", path, ops))[0] == 200, path
    _, document, _ = await api.call("GET", "/api/openapi.json")
    answered = {
        (m, t) for m, t, status in api.contract.checked | chained.contract.checked if status < 400
    }
    answered.add(("GET", "/api/events"))  # a WebSocket: its frames are checked in test_live
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented - answered == set()

"""The served OpenAPI document and the served routes are the same set."""

from __future__ import annotations

from aiohttp import web

from tests.api.conftest import Api

METHODS = {"get", "post", "put", "patch", "delete"}


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method.lower() in METHODS and route.resource is not None
    }


async def test_every_route_is_documented_and_every_documented_route_exists(api: Api) -> None:
    status, document, response = await api.call("GET", "/api/openapi.json")
    assert status == 200
    assert response.content_type == "application/json"
    assert document["openapi"].startswith("3.1")
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }
    served = served_routes(api.client.app)
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


async def test_documented_error_statuses_cover_the_contract(api: Api) -> None:
    _, document, _ = await api.call("GET", "/api/openapi.json")
    preview = document["paths"]["/api/orders/preview"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "413", "415", "422"} <= set(preview)
    confirm = document["paths"]["/api/orders/{order_id}/confirm"]["post"]["responses"]
    assert {"200", "202", "404", "409", "503"} <= set(confirm)

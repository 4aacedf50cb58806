"""Browsable docs at /docs from the package itself, and CORS for the origins an
operator allows."""

from __future__ import annotations

import re
from importlib import metadata, resources

import pytest

from autogrocery import __version__
from autogrocery.config import ConfigError
from tests.api.conftest import Api, ApiFactory
from tests.conftest import ConfigFactory


async def test_root_redirects_a_browser_to_the_docs(api: Api) -> None:
    status, _, response = await api.call("GET", "/", headers={"Accept": "text/html"})
    assert status == 302
    assert response.headers["Location"] == "/docs"


async def test_the_docs_page_and_everything_it_loads_come_from_the_store(api: Api) -> None:
    status, page, response = await api.call("GET", "/docs")
    assert status == 200
    assert response.content_type == "text/html"
    html = page.decode()
    # Everything the page loads is a path on this server: nothing from a CDN.
    loads = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)
    assert loads == ["/api/openapi.json", "/docs/redoc.standalone.js"]
    assert "http://" not in html
    assert "https://" not in html
    # ... and the browser is told to refuse anything from elsewhere.
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    status, script, response = await api.call("GET", "/docs/redoc.standalone.js")
    assert status == 200
    assert response.content_type == "application/javascript"
    assert len(script) > 500_000  # the real Redoc bundle, not a stub
    assert b"Redoc" in script[:1000]
    status, document, _ = await api.call("GET", "/api/openapi.json")
    assert status == 200
    assert document["info"]["title"] == "autogrocery"


async def test_the_favicon_is_served_from_the_package(api: Api) -> None:
    status, icon, response = await api.call("GET", "/favicon.ico")  # no login: any browser
    assert status == 200
    assert response.content_type == "image/x-icon"
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file, one image in it...
    assert icon[22:30] == b"\x89PNG\r\n\x1a\n"  # ... a PNG
    packaged = resources.files("autogrocery.api").joinpath("docs", "favicon.ico").read_bytes()
    assert icon == packaged
    assert "max-age" in response.headers["Cache-Control"]


async def test_the_api_document_has_the_packages_version(api: Api) -> None:
    status, document, _ = await api.call("GET", "/api/openapi.json")
    assert status == 200
    assert document["info"]["version"] == metadata.version("autogrocery") == __version__


ORIGIN = "https://fridge-maker.example"


async def test_without_cors_origins_a_preflight_is_refused(api: Api) -> None:
    status, _, response = await api.call(
        "OPTIONS",
        "/api/catalog",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert status == 405
    assert response.content_type == "application/problem+json"
    assert "Access-Control-Allow-Origin" not in response.headers
    device = await api.device()
    status, _, response = await api.call("GET", "/api/catalog", {**device, "Origin": ORIGIN})
    assert status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_allowed_origin_gets_preflights_and_readable_answers(
    make_api: ApiFactory,
) -> None:
    api = await make_api(f"api.cors_origins={ORIGIN}, http://localhost:3000")
    status, _, response = await api.call(
        "OPTIONS",
        "/api/orders/ord_x/confirm",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert status == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "idempotency-key" in allowed
    device = await api.device()
    status, _, response = await api.call("GET", "/api/catalog", {**device, "Origin": ORIGIN})
    assert status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.headers["Vary"]
    # A page can revalidate the catalog: it may send If-None-Match and read the ETag.
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    status, _, response = await api.call(
        "OPTIONS",
        "/api/catalog",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, if-none-match",
        },
    )
    assert status == 204
    assert "if-none-match" in response.headers["Access-Control-Allow-Headers"].lower()
    # Errors too, so the page can read the problem.
    status, _, response = await api.call("GET", "/api/catalog", {"Origin": ORIGIN})
    assert status == 401
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]
    # Another origin, or a method the route does not have, is refused as before.
    for origin, method in (("https://evil.example", "GET"), (ORIGIN, "DELETE")):
        status, _, response = await api.call(
            "OPTIONS",
            "/api/catalog",
            headers={"Origin": origin, "Access-Control-Request-Method": method},
        )
        assert status == 405, (origin, method)
        assert "Access-Control-Allow-Origin" not in response.headers


def test_a_bad_cors_origin_stops_the_start_naming_the_key(make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match=r"api\.cors_origins: 'https://x\.example/app'"):
        make_config("api.cors_origins=https://x.example/app")

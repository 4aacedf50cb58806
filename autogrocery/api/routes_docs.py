"""The OpenAPI document and the page that shows it (/docs), served from the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from autogrocery.api.core import DOCUMENT
from autogrocery.api.openapi import Operation, Reply, asset, documented

routes = web.RouteTableDef()

REDOC = Path(str(resources.files("autogrocery.api").joinpath("docs", "redoc.standalone.js")))
FAVICON = Path(str(resources.files("autogrocery.api").joinpath("docs", "favicon.ico")))
PAGE = b"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>autogrocery API</title>
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <redoc spec-url="/api/openapi.json" hide-download-button="false"></redoc>
  <script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"""
# Nothing on the page may come from elsewhere: it works on a store's offline network.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; worker-src blob:; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:"
)


@routes.get("/api/openapi.json")
@documented(
    Operation(
        "getOpenApi",
        "This OpenAPI document",
        "operations",
        roles=None,
        replies=(Reply(200, "The OpenAPI 3.1 document.", schema={"type": "object"}),),
    )
)
async def openapi(request: web.Request) -> web.Response:
    body = await request.app[DOCUMENT].body()
    return web.Response(body=body, content_type="application/json")


@routes.get("/docs")
@documented(
    Operation(
        "docs",
        "Browsable API documentation",
        "operations",
        roles=None,
        replies=(Reply(200, "A page (Redoc) for this document.", media="text/html", schema={}),),
        description="Served from the package itself: no CDN, works offline.",
    )
)
async def docs(_: web.Request) -> web.Response:
    return web.Response(
        body=PAGE,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": PAGE_POLICY},
    )


@routes.get("/docs/redoc.standalone.js")
@asset
async def redoc(_: web.Request) -> web.FileResponse:
    return web.FileResponse(REDOC, headers={"Cache-Control": "public, max-age=3600"})


@routes.get("/favicon.ico")
@asset
async def favicon(_: web.Request) -> web.FileResponse:
    """What a browser asks for beside any page of the store (tools/make_favicon.py)."""
    return web.FileResponse(
        FAVICON, headers={"Cache-Control": "public, max-age=86400", "Content-Type": "image/x-icon"}
    )


@routes.get("/")
@documented(
    Operation(
        "root",
        "Where the documentation is",
        "operations",
        roles=None,
        replies=(Reply(302, "Redirects to /docs."),),
    )
)
async def root(_: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "/docs"})

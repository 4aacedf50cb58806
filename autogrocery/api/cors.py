"""CORS for the web origins an operator allows (`api.cors_origins`); none by default.

A preflight from an allowed origin for a route that exists gets 204 with what it may
send; any other preflight is refused as before CORS existed (405 problem+json, no CORS
headers), and so a browser keeps other origins' pages out.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from autogrocery.api.problems import Handler

ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id"
EXPOSE_HEADERS = "ETag, Idempotent-Replayed, Retry-After, WWW-Authenticate, X-Request-Id"
MAX_AGE = "600"


def cors_middleware(origins: Iterable[str]) -> Middleware | None:
    allowed = frozenset(origins)
    if not allowed:
        return None

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin not in allowed:
            return await handler(request)
        wanted = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD)
        if request.method == hdrs.METH_OPTIONS and wanted is not None:
            methods = _methods(request)
            if wanted not in methods:
                return await handler(request)
            return web.Response(
                status=204,
                headers={
                    hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
                    hdrs.ACCESS_CONTROL_ALLOW_METHODS: ", ".join(sorted(methods)),
                    hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOW_HEADERS,
                    hdrs.ACCESS_CONTROL_MAX_AGE: MAX_AGE,
                    hdrs.VARY: "Origin",
                },
            )
        response = await handler(request)
        if not response.prepared:  # a WebSocket is under way: its headers are gone
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSE_HEADERS
            response.headers.add(hdrs.VARY, "Origin")
        return response

    return cors


def _methods(request: web.Request) -> set[str]:
    """The methods the requested path is served with."""
    found: set[str] = set()
    for resource in request.app.router.resources():
        info = resource.get_info()
        pattern = info.get("pattern")
        if info.get("path") == request.path or (pattern and pattern.fullmatch(request.path)):
            found |= {route.method for route in resource}
    found.discard(hdrs.METH_HEAD)
    return found

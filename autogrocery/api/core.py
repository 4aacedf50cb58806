"""What every autogrocery HTTP app shares, the store's and the head office's: the typed
keys, the caller of a request, the per-app core (auth, its tables, HTTP metrics,
idempotency locks, background tasks) and the middleware that ids, times and turns
every error into problem+json.

Nothing here knows the store's actors: the head office (`autogrocery.central`) serves
the same auth, errors, OpenAPI and idempotency conventions from its own read model.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth import Auth
from autogrocery.api.document import ServedDocument
from autogrocery.api.gate import ConnectionStats
from autogrocery.api.problems import Handler, Unauthorized, error_response
from autogrocery.api.tasks import Background
from autogrocery.api.tokens import Principal
from autogrocery.config import ApiConfig
from autogrocery.domain.records import Made


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How much the HTTP server gives one client (`[api]` in config)."""

    header_timeout: float = 20.0  # to send a request's headers (and idle keep-alive)
    body_timeout: float = 20.0  # to send a request's whole body
    max_connections: int = 1000  # open at once; more get 503 at once
    max_connections_per_client: int = 0  # from one client address; 0: no such cap


def connection_limits(api: ApiConfig) -> ConnectionLimits:
    return ConnectionLimits(
        api.header_timeout, api.body_timeout, api.max_connections, api.max_connections_per_client
    )


class HttpMetrics(Protocol):
    """What the shared serving code reports to an app's metrics."""

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None: ...

    def watch_connections(self, stats: Callable[[], ConnectionStats]) -> None: ...


@dataclass(kw_only=True)
class ApiCore:
    """One app's auth, its tables, metrics and the state its conventions need."""

    auth: Auth
    tables: AuthTables
    metrics: HttpMetrics
    idempotency_ttl: float
    # What a caller made under an Idempotency-Key (api/idempotency.py), in the app's
    # own tables: the store's orders and restocks, the head office's transfers.
    made: Callable[[Principal, str], Awaitable[Made | None]] | None = None
    # Striped: a retry waits for its first attempt; unrelated keys rarely share a lock.
    key_locks: list[asyncio.Lock] = field(
        default_factory=lambda: [asyncio.Lock() for _ in range(64)]
    )
    background: Background = field(default_factory=Background)


CORE = web.AppKey("core", ApiCore)
CONNECTION_LIMITS = web.AppKey("limits", ConnectionLimits)
DOCUMENT = web.AppKey("openapi", ServedDocument)  # built on its first request
REQUEST_ID = web.RequestKey("request_id", str)
BODY = web.RequestKey("body", bytes)  # the raw JSON body, for Idempotency-Key hashing
CALLER = web.RequestKey("caller", Principal)  # set by @documented for operations with roles


def core(request: web.Request) -> ApiCore:
    return request.app[CORE]


def principal(request: web.Request, *roles: str, allow_query_token: bool = False) -> Principal:
    """The caller, from `Authorization: Bearer …` (or `?token=` for the WebSocket)."""
    header = request.headers.get("Authorization", "")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use Authorization: Bearer <access token>")
        token = value.strip()
    elif allow_query_token:
        token = request.query.get("token")
    if not token:
        raise Unauthorized("this needs an access token")
    caller = core(request).auth.tokens.verify(token)
    if roles:
        caller.require(*roles)
    return caller


_REQUEST_IDS = itertools.count(1)
_ID_PREFIX = secrets.token_hex(4)  # this process's; ids stay unique across restarts


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request ids, HTTP metrics by route (the pattern, never the raw path), and every
    error as problem+json. One middleware: each layer costs every request."""
    request_id = request.headers.get("X-Request-Id", "")[:64] or (
        f"{_ID_PREFIX}-{next(_REQUEST_IDS):x}"
    )
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Exception as error:
        response = error_response(error, request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[CORE].metrics.observe_request(
        route, request.method, response.status, time.perf_counter() - started
    )
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response

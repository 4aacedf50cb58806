"""Typed application keys and per-request helpers shared by the route modules."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from aiohttp import web

from autogrocery.actors.system import System
from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth import Auth, Principal
from autogrocery.api.metrics import ApiMetrics
from autogrocery.api.problems import Unauthorized
from autogrocery.api.tasks import Background
from autogrocery.domain.conversations import Conversations


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the HTTP server gives one client (`[api]` in config)."""

    header_timeout: float = 20.0  # to send a request's headers (and idle keep-alive)
    body_timeout: float = 20.0  # to send a request's whole body
    max_connections: int = 1000  # open at once; more get 503 at once


@dataclass
class ApiState:
    system: System
    auth: Auth
    tables: AuthTables
    metrics: ApiMetrics
    idempotency_ttl: float
    event_buffer: int = 10_000
    websockets: weakref.WeakSet[web.WebSocketResponse] = field(default_factory=weakref.WeakSet)
    # Striped: a retry waits for its first attempt; unrelated keys rarely share a lock.
    key_locks: list[asyncio.Lock] = field(
        default_factory=lambda: [asyncio.Lock() for _ in range(64)]
    )
    conversations: Conversations = field(default_factory=Conversations)  # stock commands
    background: Background = field(default_factory=Background)


STATE = web.AppKey("state", ApiState)
LIMITS = web.AppKey("limits", Limits)
DOCUMENT = web.AppKey("openapi", bytes)  # the generated OpenAPI document, as served
REQUEST_ID = web.RequestKey("request_id", str)
BODY = web.RequestKey("body", bytes)  # the raw JSON body, for Idempotency-Key hashing
CALLER = web.RequestKey("caller", Principal)  # set by @documented for operations with roles


def state(request: web.Request) -> ApiState:
    return request.app[STATE]


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
    caller = state(request).auth.verify(token)
    if roles:
        caller.require(*roles)
    return caller


def owner_filter(caller: Principal) -> str | None:
    """Operators see everything; everyone else only what they own."""
    return None if caller.role == "operator" else caller.user_id

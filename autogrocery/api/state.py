"""The store's application state and per-request helpers shared by its route modules.

What the head office shares with the store (keys, the caller, the per-app core) lives in
`api.core`; it is re-exported here, where the store's routes have always found it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth import Auth
from autogrocery.api.core import (
    BODY,
    CALLER,
    CONNECTION_LIMITS,
    CORE,
    DOCUMENT,
    REQUEST_ID,
    ApiCore,
    ConnectionLimits,
    principal,
)
from autogrocery.api.memory import Trimmer
from autogrocery.api.metrics import ApiMetrics
from autogrocery.api.tasks import Background
from autogrocery.api.tokens import Principal
from autogrocery.domain.open_conversations import Conversations
from autogrocery.domain.records import Made
from autogrocery.service.system import System

__all__ = [
    "BODY",
    "CALLER",
    "CONNECTION_LIMITS",
    "CORE",
    "DOCUMENT",
    "REQUEST_ID",
    "STATE",
    "ApiState",
    "ConnectionLimits",
    "owner_filter",
    "principal",
    "state",
]


@dataclass
class ApiState:
    system: System
    auth: Auth
    tables: AuthTables
    metrics: ApiMetrics
    idempotency_ttl: float
    event_buffer: int = 10_000
    event_buffer_bytes: int = 262_144
    event_send_buffer: int = 131_072
    # The event streams open now, and their connections (to reset one that hangs).
    websockets: dict[web.WebSocketResponse, asyncio.Transport] = field(default_factory=dict)
    # Striped: a retry waits for its first attempt; unrelated keys rarely share a lock.
    key_locks: list[asyncio.Lock] = field(
        default_factory=lambda: [asyncio.Lock() for _ in range(64)]
    )
    conversations: Conversations = field(default_factory=Conversations)  # stock commands
    background: Background = field(default_factory=Background)
    memory: Trimmer = field(default_factory=Trimmer)  # gives back what closed streams held
    # The same auth, tables, metrics, locks and tasks, as the shared code finds them.
    core: ApiCore = field(init=False)

    def __post_init__(self) -> None:
        self.core = ApiCore(
            auth=self.auth,
            tables=self.tables,
            metrics=self.metrics,
            idempotency_ttl=self.idempotency_ttl,
            key_locks=self.key_locks,
            background=self.background,
            made=self._made,
        )

    async def _made(self, caller: Principal, key: str) -> Made | None:
        return await self.system.made(caller.user_id, key)


STATE = web.AppKey("state", ApiState)


def state(request: web.Request) -> ApiState:
    return request.app[STATE]


def owner_filter(caller: Principal) -> str | None:
    """Operators see everything; everyone else only what they own."""
    return None if caller.role == "operator" else caller.user_id

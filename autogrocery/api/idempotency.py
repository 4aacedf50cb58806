"""Idempotency-Key: a retry with the same key and body gets the first answer again.

One mechanism, and each request's record is where its effect is, written once:
- a request that made an order or a restock: the order itself, which carries the key
  and is stored in the same commit as the stock it holds, so no crash can keep one
  without the other. A retry's first answer is rendered again from it (`made`: the
  order as it was made, marked replayed);
- any other answer (a refusal, a confirm's): the API's own table, written after it.
A repeated confirm whose answer could not be noted (a full disk) answers with the
order's state now (200), which is what a second confirm answers anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from autogrocery.api.accounts import AuthTables
from autogrocery.api.core import core
from autogrocery.api.problems import from_domain
from autogrocery.api.tokens import Principal
from autogrocery.domain.errors import DomainError, IdempotencyMismatch, ValidationError
from autogrocery.domain.models import now

log = logging.getLogger(__name__)

Run = Callable[[str | None], Awaitable[web.Response]]
# The first answer of the order made under this key (by the route that made it), or
# None if none was: for routes whose effect is an order that carries its key.
Made = Callable[[str], Awaitable[web.Response | None]]
PURGE_INTERVAL = 3600.0


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(32 <= ord(c) <= 126 for c in key)


async def idempotent(
    request: web.Request,
    caller: Principal,
    body: bytes,
    run: Run,
    *,
    made: Made | None = None,
    error_type: str = "application/problem+json",
) -> web.Response:
    """Run the effect once per (caller, Idempotency-Key). `run` gets the key; a route
    whose effect is an order passes it on to the store and names `made`, and only its
    refusals are noted here. `error_type` is the content type a replayed error answer
    had (plain text on the original clients' routes)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return await run(None)
    if not _valid_key(key):
        raise ValidationError(
            "Idempotency-Key must be 1-255 printable ASCII characters",
            [{"field": "Idempotency-Key", "message": "invalid"}],
        )
    api = core(request)
    route = f"{request.method} {request.path}"
    digest = hashlib.sha256(route.encode() + b"\0" + body).hexdigest()
    lock = api.key_locks[hash((caller.user_id, key)) % len(api.key_locks)]
    async with lock:
        first = await api.tables.idempotent(caller.user_id, key)
        if first is not None and first["created_at"] > now() - api.idempotency_ttl:
            if first["route"] != route or first["body_hash"] != digest:
                raise IdempotencyMismatch()
            content_type = "application/json" if first["status"] < 400 else error_type
            return web.Response(
                body=first["response"],
                status=first["status"],
                content_type=content_type,
                headers=REPLAYED,
            )
        if made is not None:
            again = await made(key)
            if again is not None:
                again.headers.update(REPLAYED)
                return again
        try:
            response = await run(key)
        except DomainError as error:
            if error.status >= 500:
                raise
            response = from_domain(error, request.path)
        if made is not None and response.status < 400:
            return response  # the order made under the key is its record
        body_sent = response.body if isinstance(response.body, bytes) else b""
        try:
            await api.tables.remember(
                caller.user_id, key, route, digest, response.status, body_sent
            )
        except Exception as exc:  # the effect is done: tell the truth about it
            log.warning(
                "%s: the answer for Idempotency-Key %r was not remembered (%s); a retry "
                "will be answered by what the store holds now",
                route,
                key,
                exc,
            )
        return response


REPLAYED = {"Idempotent-Replayed": "true"}


async def purge_idempotency(tables: AuthTables, ttl: float) -> None:
    """Forget answers older than `ttl`, hourly (a background task of the app)."""
    while True:
        await tables.forget_idempotency_before(now() - ttl)
        await asyncio.sleep(PURGE_INTERVAL)

"""Idempotency-Key: a retry with the same key and body gets the first answer again.

One mechanism, and each request's record is where its effect is, written once:
- a request that made something (an order or a restock; at the head office a transfer
  or a catalog version) is recorded by what it made, which carries the key and the
  request's digest (route and body) and is stored in the same commit, so no crash can
  keep one without the other. Its retry is answered by the route that made it,
  rendered again from what it made as it was made (`again`);
- any other answer (a refusal, a confirm's) is noted in the API's own table after it
  is given, and replayed as it was, for `auth.idempotency_ttl`.
Both are looked up for every keyed request, whatever its route: a key is one request's.
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
from autogrocery.domain.records import Made, RequestKey

log = logging.getLogger(__name__)

Run = Callable[[RequestKey | None], Awaitable[web.Response]]
PURGE_INTERVAL = 3600.0
# The first answer of what a key made, rendered again by the route that makes such
# things; None if it is not what this route makes.
Again = Callable[[Made], Awaitable[web.Response | None]]


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(32 <= ord(c) <= 126 for c in key)


async def idempotent(
    request: web.Request,
    caller: Principal,
    body: bytes,
    run: Run,
    *,
    again: Again | None = None,
    error_type: str = "application/problem+json",
) -> web.Response:
    """Run the effect once per (caller, Idempotency-Key). `run` gets the key with its
    request's digest, for what it makes to carry; a route that makes something names
    `again`, and then only its refusals are noted here. `error_type` is the content
    type a replayed error answer had (plain text on the original clients' routes)."""
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
        made = await api.made(caller, key) if api.made is not None else None
        if made is not None:
            replayed = await _made_before(made, digest, again)
            if replayed is not None:
                return replayed
        try:
            response = await run(RequestKey(key, digest, caller.user_id))
        except DomainError as error:
            if error.status >= 500:
                raise
            response = from_domain(error, request.path)
        if again is not None and response.status < 400:
            return response  # what it made carries the key: its record
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


async def _made_before(made: Made, digest: str, again: Again | None) -> web.Response | None:
    """The first answer of what the key made, for a retry of the same request; None
    for a route that notes its answers (its note has expired or was lost): it runs
    again, and what it asks the store to make, the store finds made by its key."""
    if made.digest is not None and made.digest != digest:
        raise IdempotencyMismatch()
    if again is None:
        return None
    first = await again(made)
    if first is None:  # made by another route (before digests were kept)
        raise IdempotencyMismatch()
    first.headers.update(REPLAYED)
    return first


REPLAYED = {"Idempotent-Replayed": "true"}


async def purge_idempotency(tables: AuthTables, ttl: float) -> None:
    """Forget answers older than `ttl`, hourly (a background task of the app)."""
    while True:
        await tables.forget_idempotency_before(now() - ttl)
        await asyncio.sleep(PURGE_INTERVAL)

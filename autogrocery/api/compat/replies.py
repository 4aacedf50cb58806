"""How the original server answers: JSON on success, plain text on error (Go's
`http.Error`), never problem+json. Every compat handler is wrapped in `original`."""

from __future__ import annotations

import functools
from typing import TypeVar

from aiohttp import web

from autogrocery.api.bodies import decode, json_response, read_raw
from autogrocery.api.idempotency import Again, Run, idempotent
from autogrocery.api.openapi import Handler, foreign
from autogrocery.api.problems import TooManyRequests, Unauthorized
from autogrocery.api.tokens import Principal
from autogrocery.domain.errors import DomainError, InsufficientStock, Unavailable
from autogrocery.domain.records import RequestKey

T = TypeVar("T")


def original(handler: Handler) -> Handler:
    """Serve `handler` outside our OpenAPI document, its errors as plain text."""

    @functools.wraps(handler)
    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DomainError as error:
            return text_error(error)

    return foreign(endpoint)


async def once(
    request: web.Request,
    caller: Principal,
    run: Run,
    again: Again | None = None,
) -> web.Response:
    """The native Idempotency-Key rule for a client that sends one (the original
    clients do not): a retry with the same key and body gets the first answer again,
    a plain-text error included. `run` gets the key, for the store to keep with the
    order or restock; `again` renders the first answer again from an order the key
    made (see `idempotent`)."""

    async def answered(key: RequestKey | None) -> web.Response:
        try:
            return await run(key)
        except DomainError as error:
            if error.status >= 500:
                raise
            return text_error(error)

    return await idempotent(
        request, caller, await request.read(), answered, again=again, error_type="text/plain"
    )


def reply(data: object, status: int = 200) -> web.Response:
    return json_response(data, status)


def text_error(error: DomainError) -> web.Response:
    headers: dict[str, str] = {}
    detail = error.detail
    if isinstance(error, InsufficientStock):
        # The fridge looks for "stock" or "insufficient" in the text.
        short = ", ".join(
            f"{s['sku']} (requested {s['requested']}, available {s['available']})"
            for s in error.extra["shortages"]
        )
        detail = f"insufficient stock: {short}"
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="autogrocery"'
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unavailable):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return web.Response(
        text=detail + "\n", status=error.status, content_type="text/plain", headers=headers
    )


async def read(request: web.Request, model: type[T]) -> T:
    """The body as `model`, whatever its Content-Type (the original never checks it),
    under the native limits: size, time, a client that hangs up."""
    return decode(await read_raw(request), model)


def bearer(request: web.Request, what: str) -> str:
    """The token of `Authorization: Bearer <token>`; 401 naming `what` when there is none."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized(f"send the {what} as Authorization: Bearer <{what}>")
    return value.strip()

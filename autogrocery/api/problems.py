"""problem+json (RFC 9457) for every error, and the middleware that guarantees it."""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from autogrocery.domain.errors import DomainError, Unavailable

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://autogrocery.dev/problems/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class RequestTimeout(DomainError):
    status = 408
    title = "Request timeout"


class ClientGone(DomainError):
    """The client hung up before its request was read: nobody gets the answer, the
    access log gets one line (status 499, as nginx logs it)."""

    status = 499
    title = "Client closed request"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


_SLUGS = {
    400: "invalid-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "idempotency-mismatch",
    429: "too-many-requests",
    431: "request-header-fields-too-large",
    500: "internal-error",
    503: "unavailable",
}


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: object
) -> web.Response:
    body = {
        "type": PROBLEM_TYPE + _SLUGS.get(status, "error"),
        "title": title,
        "status": status,
        "detail": detail,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/problem+json",
        headers=headers,
    )


def from_domain(error: DomainError, instance: str | None = None) -> web.Response:
    headers: dict[str, str] = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="autogrocery"'
    extra = {k: v for k, v in error.extra.items() if v not in (None, [])}
    retry_after: float | None = getattr(error, "retry_after", None)  # every 503 and 429
    if retry_after is not None:
        seconds = max(1, math.ceil(retry_after))
        headers["Retry-After"] = str(seconds)
        extra["retry_after"] = seconds
    return problem(error.status, error.title, error.detail, headers, instance=instance, **extra)


def error_response(error: Exception, request: web.Request) -> web.Response:
    """Domain errors and aiohttp's own HTTP errors become problem+json; anything
    unexpected becomes a 500 with no traceback (the traceback goes to the log).
    An aiohttp redirect (below 400) is raised again."""
    if isinstance(error, DomainError):
        return from_domain(error, request.path)
    if isinstance(error, sqlite3.OperationalError):  # a full disk, an I/O error: transient
        log.warning("%s %s: the store failed: %s", request.method, request.path, error)
        busy = Unavailable(f"the store cannot save right now ({error}); try again", 2.0)
        return from_domain(busy, request.path)
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return problem(
            413, "Payload too large", "the body is larger than 64 KiB", instance=request.path
        )
    if isinstance(error, web.HTTPException):
        if error.status < 400:
            raise error
        headers = {k: v for k, v in error.headers.items() if k in ("Allow", "Retry-After")}
        return problem(
            error.status, error.reason, error.text or error.reason, headers, instance=request.path
        )
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem(
        500,
        "Internal server error",
        "the server failed to handle this request; it has been logged",
        instance=request.path,
    )

"""Typed domain errors; the API turns each into a problem+json answer."""

from __future__ import annotations

from typing import Any, TypedDict


class DomainError(Exception):
    """Base of every error a caller can act on. `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    # `extra`: the problem+json body's further members (the API's `problem(**extra)`),
    # which API code reads back by key (a ValidationError's "errors").
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationError(DomainError):
    status = 400
    title = "Invalid request"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Shortage(TypedDict):
    """A SKU an order asked more of than there is (a problem's "shortages")."""

    sku: str
    requested: int
    available: int


class InsufficientStock(Conflict):
    title = "Insufficient stock"

    def __init__(self, shortages: list[Shortage]) -> None:
        skus = ", ".join(s["sku"] for s in shortages)
        super().__init__(f"not enough stock for {skus}")
        self.extra = {"shortages": shortages}


class Unavailable(DomainError):
    """Try again later: `retry_after` seconds is a fair wait (the API's Retry-After)."""

    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: float = 1.0, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class IdempotencyMismatch(DomainError):
    status = 422
    title = "Idempotency-Key reused with a different request"

    def __init__(
        self, detail: str = "this Idempotency-Key was used with a different request"
    ) -> None:
        super().__init__(detail)

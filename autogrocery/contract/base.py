"""The words every body of the API is made of: the base `Body`, money, times, SKUs,
statuses and pages, and the problem details every error is sent as.

Every request and response body of the API is a msgspec Struct, declared once, by topic:
accounts and tokens (`accounts.py`), orders and restocks (`orders.py`), the catalog,
products and stock (`stock.py`), stock commands in plain words (`commands.py`),
operations and reports (`ops.py`), the chain (`chain.py`), the head office's answers its
dashboard reads (`head_office.py`) and the live events (`events.py`). They are the HTTP
contract as types, a layer of their own (msgspec and the domain only) so that the API
and its clients share them: requests are decoded and validated by them
(`api/bodies.read_body`); handlers answer with them, built from the core's records by
`api/views.py`; the OpenAPI document is generated from all of them (`api/openapi.py`),
and the API tests check every response against it; the dashboards decode what they
receive into them (`client.StoreClient.ask`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from autogrocery.domain.models import SKU_PATTERN

REF = "#/components/schemas/"
# [0-9], not \d: Python's \d (which checks requests) takes any Unicode digit.
MONEY_PATTERN = r"^[0-9]+\.[0-9]{2}$"
# Requests: at most 9 digits before the point, and trailing zeros may be left out.
MONEY_IN_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
Money = Annotated[
    str,
    Meta(
        pattern=MONEY_PATTERN,
        description="An amount as a decimal string with two places, never a float.",
        examples=["12.40"],
    ),
]
MoneyIn = Annotated[
    str,
    Meta(
        pattern=MONEY_IN_PATTERN,
        description="An amount as a decimal string, ASCII digits, at most 9 before the "
        'point and 2 after, like "12.40".',
        examples=["12.40"],
    ),
]
Timestamp = Annotated[
    str,
    Meta(
        description="RFC 3339 UTC, millisecond precision.",
        examples=["2024-05-01T12:00:00.000Z"],
        extra_json_schema={"format": "date-time"},
    ),
]
OrderStatus = Annotated[
    Literal["PREVIEWED", "PROCESSING", "COMPLETED", "CANCELLED", "EXPIRED", "FAILED"],
    Meta(
        title="OrderStatus",
        description="PREVIEWED -> PROCESSING -> COMPLETED; PREVIEWED -> CANCELLED | EXPIRED; "
        "PROCESSING -> FAILED (nothing billed, stock released).",
    ),
]
Sku = Annotated[
    str,
    Meta(
        pattern=SKU_PATTERN,
        examples=["BRD-001"],
        description="1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    ),
]
Text = Annotated[str, Meta(min_length=1, max_length=200)]
Count = Annotated[int, Meta(ge=0, le=10_000_000)]
NextCursor = Annotated[
    str | None,
    Meta(description="Pass as ?cursor= for the next (older) page; null on the last page."),
]
IsoDate = Annotated[
    str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-01"], description="YYYY-MM-DD")
]


class Body(Struct):
    """Every body of the API. An answer may carry fields a later version added: whoever
    reads it (the dashboards) ignores what it does not declare, so a store upgraded
    before its dashboards does not break them."""


class Request(Body, forbid_unknown_fields=True):
    """A request body: fields it does not declare are refused (a 400 naming them)."""


# --- problems ---------------------------------------------------------------------------


class FieldError(Body):
    field: Annotated[str, Meta(examples=["items[0].quantity"])]
    message: str


class Shortage(Body):
    sku: str
    requested: int
    available: int


class Problem(Body):
    """RFC 9457 problem details, sent as application/problem+json."""

    type: Annotated[str, Meta(examples=["https://autogrocery.dev/problems/invalid-request"])]
    title: str
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: Annotated[str, Meta(description="What went wrong; never a stack trace.")]
    instance: Annotated[str, Meta(description="The request path.")] | UnsetType = UNSET
    errors: list[FieldError] | UnsetType = UNSET
    shortages: list[Shortage] | UnsetType = UNSET
    retry_after: (
        Annotated[int, Meta(ge=1, description="Seconds to wait before retrying, as Retry-After.")]
        | UnsetType
    ) = UNSET
    aisles: (
        Annotated[
            list[str],
            Meta(description="On a refused confirm (503): the aisles no robot serves now."),
        ]
        | UnsetType
    ) = UNSET

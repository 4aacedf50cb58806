"""Pages of the operators' reports and checks (`/api/ops/reconcile`, `/expiring`,
`/reports/usage`, `/reports/waste`): `limit` and an opaque `cursor` holding the key of
the last entry shown (a SKU; for lots, their best-before date, SKU and lot id), so an
entry added or changed between two pages neither skips nor repeats the others.
Without `limit` an answer is what it was before pages: every entry.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import orjson
from aiohttp import web

from autogrocery.api.bodies import query_int
from autogrocery.api.openapi import Param
from autogrocery.domain.errors import ValidationError

MOST = 1000  # a page of 1,000 catalog entries is ~0.36 MB

LIMIT = Param(
    "limit",
    f"Page size, 1-{MOST}. Without it: every entry in one answer (megabytes for a "
    "50,000-SKU store): dashboards should page.",
    {"type": "integer", "minimum": 1, "maximum": MOST},
)
CURSOR = Param(
    "cursor",
    "The `next_cursor` of the previous page, with the same other parameters.",
    {"type": "string", "maxLength": 400},
)


def limit_of(request: web.Request) -> int | None:
    if request.query.get("limit") in (None, ""):
        return None
    limit = query_int(request, "limit", 0)
    if not 1 <= limit <= MOST:
        raise ValidationError(
            f"limit must be between 1 and {MOST}", [{"field": "limit", "message": "out of range"}]
        )
    return limit


def cursor_of(request: web.Request, parts: int) -> list[str] | None:
    """The key a `cursor` holds (`parts` strings), None without one."""
    raw = request.query.get("cursor") or None
    if raw is None:
        return None
    key = decode(raw)
    strings = [k for k in key if isinstance(k, str)]
    if len(key) != parts or len(strings) != len(key):
        raise bad_cursor()
    return strings


def cursor(*key: str) -> str:
    return encode(list(key))


def encode(parts: Sequence[object]) -> str:
    """An opaque cursor: the parts as JSON, base64url without padding."""
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")


def decode(raw: str) -> list[object]:
    """The parts of a cursor `encode` made; a 400 naming `cursor` for anything else."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise bad_cursor() from None
    if not isinstance(parts, list):
        raise bad_cursor()
    return parts


def bad_cursor(message: str = "cursor is not one this server gave out") -> ValidationError:
    return ValidationError(message, [{"field": "cursor", "message": "invalid"}])


def sku_page(request: web.Request) -> tuple[int, str] | None:
    """A page of SKUs: how many, after which ("" first); None: every one."""
    limit = limit_of(request)
    after = cursor_of(request, 1)
    if limit is None:
        if after is not None:
            raise ValidationError(
                "cursor needs the limit it was given with",
                [{"field": "limit", "message": "missing"}],
            )
        return None
    return limit, after[0] if after else ""

"""Pages of the store's products, for `/api/catalog` and `/api/ops/inventory`.

Without `q` a page is a keyset in shelf order: the cursor is the last (aisle, SKU)
shown, so stock and price changes between two pages neither skip nor repeat a product.
With `q` the order is relevance, which has no stable key: the cursor is the position
in the ranked list (a product whose rank changes between pages may move across them).
Without `limit` the answer is every match, as before paging (the contract's old
clients read one whole list).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from aiohttp import web

from autogrocery.api.bodies import encode_json
from autogrocery.api.openapi import Param
from autogrocery.api.report_paging import MOST, bad_cursor, decode, encode, limit_of
from autogrocery.domain.catalog import live_products
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages.stock import StockPage
from autogrocery.domain.models import Product
from autogrocery.domain.records import StockLevel
from autogrocery.domain.search import search
from autogrocery.service.system import System

EVERYTHING = 10**9
MAX_QUERY = 200

LIMIT = Param(
    "limit",
    f"Page size, 1-{MOST}. Without it: every match in one answer (18 MB for a "
    "50,000-SKU store): devices and dashboards should page.",
    {"type": "integer", "minimum": 1, "maximum": MOST},
)
CURSOR = Param(
    "cursor",
    "The `next_cursor` of the previous page, with the same filters.",
    {"type": "string", "maxLength": 400},
)
QUERY = Param(
    "q",
    "Words of a name in any language (case, accents and word order do not "
    "matter; typos are forgiven after exact matches); best match first.",
    {"type": "string", "maxLength": MAX_QUERY},
)
CATEGORY = Param("category", "Only this category (e.g. drinks).", {"type": "string"})
AISLE = Param("aisle", "Only this aisle.", {"type": "string"})
IF_NONE_MATCH = Param(
    "If-None-Match",
    "The `ETag` of the copy you hold: 304 with no body when the page is unchanged.",
    {"type": "string"},
    where="header",
)

ETAG_HEADER = {
    "ETag": {
        "description": "A strong tag of this answer's bytes: send it as `If-None-Match`.",
        "schema": {"type": "string"},
    }
}


@dataclass(frozen=True, slots=True)
class Filters:
    query: str = ""
    category: str | None = None
    aisle: str | None = None
    sku_prefix: str | None = None
    below_min: bool = False

    def fingerprint(self) -> str:
        """Ties a ranked cursor to its query: a position means nothing in another one."""
        return hashlib.blake2b(repr(self).encode(), digest_size=4).hexdigest()


@dataclass(frozen=True, slots=True)
class Found:
    levels: list[StockLevel]
    products: dict[str, Product]  # the search's, by SKU; empty from a listing
    next_cursor: str | None

    def described(self) -> list[tuple[Product, StockLevel]]:
        """Each level with its product's description (what the catalog shows)."""
        if not self.products:  # a listing: described from the levels themselves
            return list(zip(live_products(self.levels), self.levels, strict=True))
        return [(self.products[level.sku], level) for level in self.levels]


def filters(request: web.Request, *, operator: bool = False) -> Filters:
    query = request.query.get("q", "")
    if len(query) > MAX_QUERY:
        raise _invalid("q", f"q is longer than {MAX_QUERY} characters", "long")
    return Filters(
        query=query,
        category=request.query.get("category") or None,
        aisle=request.query.get("aisle") or None,
        sku_prefix=(request.query.get("sku") or None) if operator else None,
        below_min=_flag(request, "below_min") if operator else False,
    )


async def find(request: web.Request, system: System, wanted: Filters) -> Found:
    limit = limit_of(request)
    cursor = request.query.get("cursor") or None
    if wanted.query:
        return await _ranked(system, wanted, limit, _position(cursor, wanted))
    page = StockPage(
        limit=(limit or EVERYTHING) + 1,
        after=_key(cursor) if cursor else None,
        aisle=wanted.aisle,
        category=wanted.category,
        sku_prefix=wanted.sku_prefix,
        below_min=wanted.below_min,
    )
    levels = await system.level_page(page)
    more = limit is not None and len(levels) > limit
    levels = levels[:limit] if limit is not None else levels
    last = levels[-1] if more else None
    following = encode(["k", last.aisle, last.sku]) if last is not None else None
    return Found(levels, {}, following)  # the catalog describes them (`described`)


async def _ranked(system: System, wanted: Filters, limit: int | None, start: int) -> Found:
    products = await system.described.products()
    end = None if limit is None else start + limit
    # Ranked only as far as this page (and one more, to know there is a next), unless
    # a filter below may drop some of what ranks first.
    filtered = wanted.aisle is not None or wanted.sku_prefix is not None or wanted.below_min
    enough = None if end is None or filtered else end + 1
    hits = await asyncio.to_thread(  # fuzzy matching is CPU work: off the loop
        lambda: search(wanted.query, products, category=wanted.category, limit=enough)
    )
    matching = [
        hit.product
        for hit in hits
        if (wanted.aisle is None or hit.product.aisle == wanted.aisle)
        and (wanted.sku_prefix is None or _starts(hit.product.sku, wanted.sku_prefix))
    ]
    if wanted.below_min:  # stock now, not as the kept products were described
        now = await system.described.levels_of(p.sku for p in matching)
        low = {level.sku for level in now if level.low}
        matching = [p for p in matching if p.sku in low]
    end = len(matching) if end is None else end
    shown = matching[start:end]
    levels = {level.sku: level for level in await system.described.levels_of(p.sku for p in shown)}
    shown = [p for p in shown if p.sku in levels]
    following = encode(["r", end, wanted.fingerprint()]) if end < len(matching) else None
    return Found([levels[p.sku] for p in shown], {p.sku: p for p in shown}, following)


def cacheable(request: web.Request, data: object) -> web.Response:
    """The JSON answer with a strong `ETag` (a hash of its bytes), or 304 with no body
    when the caller's `If-None-Match` names it. The hash is of exactly what is sent,
    so it is never stale, and a page's tag changes only when that page's content does."""
    body = encode_json(data)
    tag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"ETag": tag, "Cache-Control": "no-cache"}  # stock moves: ask every time
    if _matches(request.headers.get("If-None-Match", ""), tag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


def _matches(header: str, tag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x"."""
    given = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in given or tag in given


def _starts(sku: str, prefix: str) -> bool:
    return sku.casefold().startswith(prefix.casefold())


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "").lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise _invalid(name, f"{name} must be true or false", "not a boolean")


def _three(cursor: str) -> list[object]:
    parts = decode(cursor)
    if len(parts) != 3:
        raise bad_cursor()
    return parts


def _key(cursor: str) -> tuple[str, str]:
    kind, aisle, sku = _three(cursor)
    if kind != "k" or not isinstance(aisle, str) or not isinstance(sku, str):
        raise bad_cursor("cursor is from a listing without q: page this one from its start")
    return aisle, sku


LAST_POSITION = 10_000_000  # beyond any catalog: a cursor past it was not given out


def _position(cursor: str | None, wanted: Filters) -> int:
    if cursor is None:
        return 0
    kind, start, fingerprint = _three(cursor)
    if kind != "r" or type(start) is not int or not 0 <= start <= LAST_POSITION:
        raise bad_cursor("cursor is from a listing with another q: page this one from its start")
    if fingerprint != wanted.fingerprint():
        raise bad_cursor("cursor is from other filters: page these from their start")
    return start


def _invalid(name: str, message: str, why: str) -> ValidationError:
    return ValidationError(message, [{"field": name, "message": why}])

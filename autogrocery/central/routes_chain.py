"""/api/chain: the stores, their stock, sales and events, as the head office knows them."""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import time

from aiohttp import web

from autogrocery.api.bodies import json_response, query_int
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.central.metrics import status_of
from autogrocery.central.readmodel import MAX_LEVELS
from autogrocery.central.readmodel import SkuStock as SkuStockRecord
from autogrocery.central.schemas import EventStats
from autogrocery.central.state import central
from autogrocery.contract.base import REF
from autogrocery.contract.head_office import Sales, SkuStock, StockPage, StoreList
from autogrocery.domain.errors import NotFound, ValidationError
from autogrocery.domain.models import rfc3339
from autogrocery.domain.money import format_money

routes = web.RouteTableDef()
OPERATOR = ("operator",)
MAX_PAGE = 500
MAX_DAYS = 3660
_CURSOR = re.compile(r"[A-Za-z0-9_-]+")


@routes.get("/api/chain/stores")
@documented(
    Operation(
        "listStores",
        "Every enrolled store: up, down or never heard from",
        "chain",
        roles=OPERATOR,
        replies=(Reply(200, "By store id.", StoreList),),
        description="`lag_events`: events in the store's leaf stream not applied yet (see "
        "the description at the top).",
    )
)
async def stores(request: web.Request) -> web.Response:
    state = central(request)
    now = time.time()
    return json_response(
        {
            "stores": [
                {
                    "store_id": s.store_id,
                    "status": status_of(s, state.store_timeout, now),
                    "last_seen": rfc3339(s.last_seen),
                    "lag_events": s.lag_events,
                    "catalog_version": s.catalog_version,
                    "on_hand_units": s.on_hand_units,
                    "shard": s.shard,
                }
                for s in await state.model.stores()
            ]
        }
    )


def _stock(item: SkuStockRecord) -> dict[str, object]:
    return {
        "sku": item.sku,
        "total_on_hand": sum(s.on_hand for s in item.stores),
        "stores": [
            {
                "store_id": s.store_id,
                "on_hand": s.on_hand,
                "reserved": s.reserved,
                "as_of": rfc3339(s.as_of),
            }
            for s in item.stores
        ],
    }


@routes.get("/api/chain/stock")
@documented(
    Operation(
        "getStock",
        "Stock per store: one SKU, or every SKU by pages",
        "chain",
        roles=OPERATOR,
        params=(
            Param("sku", "One SKU: its stock in every store that reported it.", {"type": "string"}),
            Param(
                "limit",
                f"Without sku: SKUs per page (1..{MAX_PAGE}, default 100).",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            ),
            Param("cursor", "Without sku: next_cursor of the previous page.", {"type": "string"}),
        ),
        replies=(
            Reply(
                200,
                "With sku: that SKU (SkuStock). Without: a page of SKUs (StockPage).",
                schema={"oneOf": [{"$ref": REF + "SkuStock"}, {"$ref": REF + "StockPage"}]},
            ),
        ),
        refers=(SkuStock, StockPage),
        problems=(404,),
        description="As each store last reported it (`as_of`: the time of its last event "
        f"applied). A page ends before `limit` SKUs once it holds {MAX_LEVELS:,} store "
        "levels (at 1,000 stores: 10 SKUs a page); follow `next_cursor` to the end. "
        "404: a SKU no store reported and no catalog version named.",
    )
)
async def stock(request: web.Request) -> web.Response:
    model = central(request).model
    sku = request.query.get("sku")
    if sku is not None:
        if not sku or len(sku) > 200:
            raise ValidationError("sku: 1-200 characters", [{"field": "sku", "message": "invalid"}])
        found = await model.stock(sku)
        if found is None:
            raise NotFound(f"no store reported SKU {sku!r} and no catalog version names it")
        return json_response(_stock(found))
    limit = query_int(request, "limit", 100)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(
            f"limit must be 1..{MAX_PAGE}", [{"field": "limit", "message": "out of range"}]
        )
    after = _cursor(request.query.get("cursor"))
    page, more = await model.stock_page(after, limit)
    cursor = _encode_cursor(page[-1].sku) if more and page else None
    return json_response({"items": [_stock(item) for item in page], "next_cursor": cursor})


def _encode_cursor(sku: str) -> str:
    return base64.urlsafe_b64encode(sku.encode()).decode().rstrip("=")


def _cursor(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        if len(raw) > 400 or not _CURSOR.fullmatch(raw):
            raise ValueError(raw)
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeError):
        raise ValidationError(
            "cursor is not one this server gave out", [{"field": "cursor", "message": "invalid"}]
        ) from None


@routes.get("/api/chain/sales")
@documented(
    Operation(
        "getSales",
        "Sales and waste per store over days",
        "chain",
        roles=OPERATOR,
        params=(
            Param(
                "from",
                "First day (YYYY-MM-DD, the chain's time zone); default: to.",
                {"type": "string", "format": "date"},
            ),
            Param(
                "to", "Last day, included; default: today.", {"type": "string", "format": "date"}
            ),
        ),
        replies=(Reply(200, "Every enrolled store, by id.", Sales),),
        description="Completed customer orders and their revenue (the day each completed), "
        "and the value of WASTE movements, per day of the chain's time zone "
        "(central.time_zone).",
    )
)
async def sales(request: web.Request) -> web.Response:
    state = central(request)
    today = datetime.datetime.now(state.zone).date()
    last = _day(request, "to", today)
    first = _day(request, "from", last)
    if first > last:
        raise ValidationError("from is after to", [{"field": "from", "message": "after to"}])
    if (last - first).days > MAX_DAYS:
        raise ValidationError(
            f"at most {MAX_DAYS} days at once", [{"field": "from", "message": "too far back"}]
        )
    rows = await state.model.sales(first.isoformat(), last.isoformat())
    return json_response(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "time_zone": state.time_zone,
            "stores": [
                {
                    "store_id": r.store_id,
                    "completed_orders": r.completed_orders,
                    "revenue": format_money(r.revenue),
                    "waste_value": format_money(r.waste_value),
                }
                for r in rows
            ],
        }
    )


def _day(request: web.Request, name: str, default: datetime.date) -> datetime.date:
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        if len(raw) != 10 or not raw.isascii():
            raise ValueError(raw)
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            f"{name} must be a date like 2026-12-01", [{"field": name, "message": "not a date"}]
        ) from None


@routes.get("/api/chain/events/stats")
@documented(
    Operation(
        "getEventStats",
        "Events applied, duplicates dropped and refusals, per store",
        "chain",
        roles=OPERATOR,
        replies=(Reply(200, "By store id.", EventStats),),
    )
)
async def event_stats(request: web.Request) -> web.Response:
    model = central(request).model
    return json_response(
        {
            "stores": [
                {
                    "store_id": s.store_id,
                    "events_applied": s.events_applied,
                    "duplicates": s.duplicates,
                    "last_seq": s.hwm,
                    "refused": s.refused,
                }
                for s in await model.stores()
            ],
            "refused_unattributed": await model.refused_unattributed(),
        }
    )

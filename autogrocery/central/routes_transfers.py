"""/api/chain/transfers and /api/chain/catalog: what the head office asks of stores.

Both only write durable state (a REQUESTED transfer, a catalog version) and wake the
sender, which takes it to the stores' leaves; the answer never waits for a store."""

from __future__ import annotations

import dataclasses
import time

import msgspec
from aiohttp import web

from autogrocery.api.bodies import json_response, query_cursor, query_int
from autogrocery.api.core import BODY, CALLER
from autogrocery.api.idempotency import idempotent
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.central.readmodel import TRANSFER_STATUSES, TransferLine, TransferRecord
from autogrocery.central.schemas import CatalogRequest, TransferRequest
from autogrocery.central.state import central
from autogrocery.chain.protocol import CatalogProduct, TransferItem
from autogrocery.contract.head_office import CatalogCreated, Transfer, TransferList
from autogrocery.domain.errors import NotFound, ValidationError
from autogrocery.domain.models import rfc3339
from autogrocery.domain.money import parse_money
from autogrocery.domain.records import Made, RequestKey

routes = web.RouteTableDef()
OPERATOR = ("operator",)
MAX_PAGE = 200


def view(t: TransferRecord) -> dict[str, object]:
    discrepancy = [
        {"sku": i.sku, "shipped": i.shipped or 0, "received": i.received or 0}
        for i in t.items
        if t.status == "RECEIVED" and (i.shipped or 0) != (i.received or 0)
    ]
    return {
        "transfer_id": t.transfer_id,
        "from_store": t.from_store,
        "to_store": t.to_store,
        "status": t.status,
        "items": [
            {"sku": i.sku, "requested": i.requested, "shipped": i.shipped, "received": i.received}
            for i in t.items
        ],
        "reason": t.reason,
        "discrepancy": discrepancy or None,
        "requested_at": rfc3339(t.requested_at),
        "shipped_at": rfc3339(t.shipped_at),
        "received_at": rfc3339(t.received_at),
    }


@routes.post("/api/chain/transfers")
@documented(
    Operation(
        "createTransfer",
        "Move stock from one store to another",
        "transfers",
        roles=OPERATOR,
        body=TransferRequest,
        replies=(Reply(201, "Requested: the sending store is asked to pick it.", Transfer),),
        problems=(503,),
        idempotent=True,
        description="400: a store that is not enrolled, an unknown SKU (one no store "
        "reported and no catalog version named), or from_store == to_store. The sending "
        "store picks it (TRANSFER_OUT) or refuses it (not enough free stock), whenever it "
        "is reachable; the receiving store then shelves what was shipped (TRANSFER_IN).",
    )
)
async def create_transfer(request: web.Request, body: TransferRequest) -> web.Response:
    merged: dict[str, int] = {}
    for line in body.items:
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    items = [TransferItem(sku, quantity) for sku, quantity in merged.items()]
    caller = request[CALLER]
    state = central(request)

    async def run(key: RequestKey | None) -> web.Response:
        # Inside the key's run: a refusal is noted under its key, as every answer is.
        if body.from_store == body.to_store:
            raise ValidationError(
                "from_store and to_store are the same store",
                [{"field": "to_store", "message": "same as from_store"}],
            )
        made = await state.model.create_transfer(
            body.from_store, body.to_store, items, caller.username, time.time(), key
        )
        state.links.wake()
        return json_response(view(made), status=201)

    async def again(made: Made) -> web.Response | None:
        first = await state.model.transfer(made.ref) if made.kind == "transfer" else None
        return None if first is None else json_response(view(as_requested(first)), status=201)

    return await idempotent(request, caller, request[BODY], run, again=again)


def as_requested(t: TransferRecord) -> TransferRecord:
    """The transfer as it was when it was requested (it may have moved on since)."""
    items = [TransferLine(i.sku, i.requested, None, None) for i in t.items]
    return dataclasses.replace(
        t, status="REQUESTED", items=items, reason=None, shipped_at=None, received_at=None
    )


@routes.get("/api/chain/transfers/{transfer_id}")
@documented(
    Operation(
        "getTransfer",
        "One transfer",
        "transfers",
        roles=OPERATOR,
        replies=(Reply(200, "The transfer.", Transfer),),
        problems=(404,),
    )
)
async def get_transfer(request: web.Request) -> web.Response:
    transfer_id = request.match_info["transfer_id"]
    found = await central(request).model.transfer(transfer_id[:100])
    if found is None:
        raise NotFound(f"no transfer {transfer_id!r}")
    return json_response(view(found))


@routes.get("/api/chain/transfers")
@documented(
    Operation(
        "listTransfers",
        "Transfers, newest first",
        "transfers",
        roles=OPERATOR,
        params=(
            Param("status", "Only these.", {"type": "string", "enum": list(TRANSFER_STATUSES)}),
            Param(
                "limit",
                f"Per page (1..{MAX_PAGE}, default 50).",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            ),
            Param("cursor", "next_cursor of the previous page.", {"type": "string"}),
        ),
        replies=(Reply(200, "A page.", TransferList),),
    )
)
async def list_transfers(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in TRANSFER_STATUSES:
        raise ValidationError(
            f"status must be one of {', '.join(TRANSFER_STATUSES)}",
            [{"field": "status", "message": "unknown status"}],
        )
    limit = query_int(request, "limit", 50)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(
            f"limit must be 1..{MAX_PAGE}", [{"field": "limit", "message": "out of range"}]
        )
    found = await central(request).model.transfers(status, query_cursor(request), limit + 1)
    page = found[:limit]
    cursor = str(page[-1].cursor) if len(found) > limit else None
    return json_response({"transfers": [view(t) for t in page], "next_cursor": cursor})


@routes.post("/api/chain/catalog")
@documented(
    Operation(
        "publishCatalog",
        "Publish a catalog version to every store",
        "catalog",
        roles=OPERATOR,
        body=CatalogRequest,
        replies=(Reply(201, "The new version (versions only grow).", CatalogCreated),),
        problems=(503,),
        idempotent=True,
        description="Prices, costs, names and new products. Every store, including one "
        "that is down now, gets every version once, in order, and reports the version it "
        "applied (GET /api/chain/stores). A SKU new to the chain needs name, aisle and "
        "price; a SKU may appear once per version; prices are above 0.",
    )
)
async def publish_catalog(request: web.Request, body: CatalogRequest) -> web.Response:
    caller = request[CALLER]
    state = central(request)

    async def run(key: RequestKey | None) -> web.Response:
        # Inside the key's run: a refusal is noted under its key, as every answer is.
        products = [_product(n, p) for n, p in enumerate(body.products)]
        seen: set[str] = set()
        for n, product in enumerate(products):
            if product.sku in seen:
                raise ValidationError(
                    f"products[{n}].sku: {product.sku!r} appears twice",
                    [{"field": f"products[{n}].sku", "message": "appears twice"}],
                )
            seen.add(product.sku)
        version = await state.model.publish_catalog(products, caller.username, time.time(), key)
        state.links.wake()
        return json_response({"version": version}, status=201)

    async def again(made: Made) -> web.Response | None:
        if made.kind != "catalog":
            return None
        return json_response({"version": int(made.ref)}, status=201)

    return await idempotent(request, caller, request[BODY], run, again=again)


def _product(n: int, given: msgspec.Struct) -> CatalogProduct:
    """The wire's product: money in cents, names trimmed, what was not given left out."""
    fields = {
        name: value
        for name, value in msgspec.structs.asdict(given).items()
        if value is not msgspec.UNSET
    }
    for name in ("price", "unit_cost"):
        if name in fields:
            try:
                fields[name] = parse_money(fields[name])
            except ValueError as exc:
                raise ValidationError(
                    f"products[{n}].{name}: {exc}",
                    [{"field": f"products[{n}].{name}", "message": str(exc)}],
                ) from None
    if fields.get("price") == 0:
        raise ValidationError(
            f"products[{n}].price must be above 0",
            [{"field": f"products[{n}].price", "message": "zero"}],
        )
    for name, value in list(fields.items()):
        if isinstance(value, str):
            fields[name] = value.strip()
            if not fields[name]:
                raise ValidationError(
                    f"products[{n}].{name} is blank",
                    [{"field": f"products[{n}].{name}", "message": "blank"}],
                )
    return msgspec.convert(fields, CatalogProduct)

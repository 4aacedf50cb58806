"""A store's side of its chain (docs/chain.md): its link to the head office, and the
transfers it ships or receives. A store in no chain answers 404."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api import views
from autogrocery.api.bodies import json_response, query_cursor, query_int
from autogrocery.api.openapi import Operation, Param, Reply, documented
from autogrocery.api.state import state
from autogrocery.contract.chain import ChainLink, Transfer, TransferList
from autogrocery.domain.errors import NotFound

routes = web.RouteTableDef()
OPERATOR = ("operator",)


@routes.get("/api/ops/chain")
@documented(
    Operation(
        "getChainLink",
        "The store's link to its head office",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "The link as it is now.", ChainLink),),
        problems=(404,),
        description="404 when the store is not in a chain.",
    )
)
async def chain_link(request: web.Request) -> web.Response:
    status = state(request).system.chain_status
    if status is None:
        raise NotFound("this store is not in a chain (run --join FILE, or [chain] join)")
    link = await status()
    return json_response(
        {
            "store_id": link.store_id,
            "hub_connected": link.hub_connected,
            "outbox_pending": link.outbox_pending,
            "oldest_pending_age_s": link.oldest_pending_age_s,
            "catalog_version": link.catalog_version,
        }
    )


@routes.get("/api/ops/transfers")
@documented(
    Operation(
        "listTransfers",
        "Transfers this store ships or receives",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "A page of them, newest first.", TransferList),),
        params=(
            Param(
                "limit",
                "Page size.",
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
            ),
            Param(
                "cursor",
                "The `next_cursor` of the previous page.",
                {"type": "string", "pattern": "^[0-9]{1,18}$"},
            ),
        ),
    )
)
async def transfers(request: web.Request) -> web.Response:
    found, cursor = await state(request).system.transfers(
        limit=query_int(request, "limit", 50), cursor=query_cursor(request)
    )
    transfers = [views.transfer(order) for order in found]
    return json_response({"transfers": transfers, "next_cursor": str(cursor) if cursor else None})


@routes.get("/api/ops/transfers/{transfer_id}")
@documented(
    Operation(
        "getTransfer",
        "This store's part of a transfer",
        "ops",
        roles=OPERATOR,
        replies=(Reply(200, "What it picks and ships, or receives and shelves.", Transfer),),
        problems=(404,),
    )
)
async def transfer(request: web.Request) -> web.Response:
    found = await state(request).system.transfer(request.match_info["transfer_id"])
    return json_response(views.transfer(found))

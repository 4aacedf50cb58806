"""Bodies of a store's chain endpoints (routes_chain.py) and its transfer events."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from autogrocery.contract.base import Body, NextCursor, OrderStatus, Timestamp


class ChainLink(Body):
    store_id: str
    hub_connected: Annotated[
        bool, Meta(description="The store's leaf node has a live link to the hub.")
    ]
    outbox_pending: Annotated[
        int,
        Meta(
            description="Events the head office has not confirmed applying, wherever they "
            "wait (outbox or leaf stream): grows while it is unreachable, back to 0 once "
            "it caught up."
        ),
    ]
    oldest_pending_age_s: float
    catalog_version: Annotated[int, Meta(description="The head office's catalog applied.")]


class TransferLine(Body):
    sku: str
    name: str
    aisle: str
    quantity: int
    expiry_date: Annotated[str | None, Meta(description="A fresh lot's best-before date.")]


class Transfer(Body):
    """This store's part of a chain's transfer: picking what it ships (TRANSFER_OUT) or
    shelving what it receives (TRANSFER_IN)."""

    transfer_id: str
    order_id: str
    kind: Literal["TRANSFER_OUT", "TRANSFER_IN"]
    peer_store: Annotated[str, Meta(description="The store it goes to or comes from.")]
    status: OrderStatus
    items: list[TransferLine]
    reason: Annotated[str | None, Meta(description="Why it was refused or failed.")]
    created_at: Timestamp
    completed_at: Timestamp | None


class TransferList(Body):
    transfers: list[Transfer]
    next_cursor: NextCursor

"""Bodies of the head office's API (autogrocery/central/) that its dashboard reads: the
chain's stores, its stock in every store, its sales, and its transfers between stores.
The head office answers with them (`central/routes_*.py`, through `central/schemas.py`,
which also declares its requests); the dashboard (`tui/chain/`) decodes them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from autogrocery.contract.base import Body, Money, NextCursor, Timestamp

StoreStatusName = Annotated[
    Literal["up", "down", "never"],
    Meta(
        title="StoreStatusName",
        description="up: heard from within chain.store_timeout (central.store_timeout, "
        "15 s); down: not since; never: enrolled, never heard from.",
    ),
]
TransferStatus = Annotated[
    Literal["REQUESTED", "SHIPPED", "RECEIVED", "REFUSED"],
    Meta(
        title="TransferStatus",
        description="REQUESTED -> SHIPPED (the sending store's robots picked it) -> RECEIVED "
        "(the receiving store's robots shelved it); REQUESTED -> REFUSED (the sending store "
        "had not enough free stock: `reason` names the SKUs).",
    ),
]
Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-01"])]


class StoreStatus(Body):
    store_id: str
    status: StoreStatusName
    last_seen: Annotated[
        Timestamp | None,
        Meta(description="When the hub last stored an event of this store (its clock)."),
    ]
    lag_events: Annotated[
        int,
        Meta(
            ge=0,
            description="Events in the store's leaf stream the head office has not applied "
            "yet: the stream's last sequence (asked of the leaf every "
            "central.reconcile_interval) minus the sequence of the last event applied "
            "from it. As last measured: while the store is down, what it was when it "
            "went. Events still in the store's outbox are the store's own count "
            "(GET /api/ops/chain there).",
        ),
    ]
    catalog_version: Annotated[int, Meta(description="The version the store applied (0: none).")]
    on_hand_units: Annotated[
        int | None,
        Meta(
            description="Units on hand in the store, as its last heartbeat said (a store "
            "sends one when its link starts, then every chain.heartbeat seconds); null "
            "before the first."
        ),
    ]
    shard: Annotated[
        int,
        Meta(
            ge=0,
            description="The head office's intake shard the store's events go through "
            "(placed at its enrolment by a hash of its id, among central.shards).",
        ),
    ] = 0


class StoreList(Body):
    stores: list[StoreStatus]


class StoreStock(Body):
    store_id: str
    on_hand: int
    reserved: int
    as_of: Annotated[
        Timestamp | None,
        Meta(description="The time (the store's clock) of its last event applied."),
    ]


class SkuStock(Body):
    sku: str
    total_on_hand: int
    stores: list[StoreStock]


class StockPage(Body):
    items: Annotated[list[SkuStock], Meta(description="By SKU.")]
    next_cursor: NextCursor


class StoreSales(Body):
    store_id: str
    completed_orders: int
    revenue: Annotated[Money, Meta(description="The completed customer orders' totals.")]
    waste_value: Annotated[Money, Meta(description="WASTE movements x their lots' unit cost.")]


class Sales(Body):
    from_: Annotated[Day, Meta(description="First day, included.")] = msgspec.field(name="from")
    to: Annotated[Day, Meta(description="Last day, included.")]
    time_zone: Annotated[str, Meta(description="The chain's (central.time_zone).")]
    stores: list[StoreSales]


class TransferLine(Body):
    sku: str
    requested: int
    shipped: Annotated[int | None, Meta(description="null until SHIPPED.")]
    received: Annotated[int | None, Meta(description="null until RECEIVED.")]


class Discrepancy(Body):
    sku: str
    shipped: int
    received: int


class Transfer(Body):
    transfer_id: Annotated[str, Meta(examples=["trf_0196b4e1f2a3c4d5e6f7a8b9"])]
    from_store: str
    to_store: str
    status: TransferStatus
    items: list[TransferLine]
    reason: Annotated[str | None, Meta(description="Why it was REFUSED.")]
    discrepancy: Annotated[
        list[Discrepancy] | None,
        Meta(
            description="Once RECEIVED: the SKUs whose received quantity differs from the "
            "shipped one; null when none does."
        ),
    ]
    requested_at: Timestamp
    shipped_at: Timestamp | None
    received_at: Timestamp | None


class TransferList(Body):
    transfers: Annotated[list[Transfer], Meta(description="Newest first.")]
    next_cursor: NextCursor


class CatalogCreated(Body):
    version: Annotated[int, Meta(ge=1, description="Versions only grow.")]

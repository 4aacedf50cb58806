"""The head office API's request and response bodies, declared once as msgspec Structs:
they decode requests (`api.bodies.read_body`) and generate its OpenAPI document, as the
store's do. Money is a decimal string ("12.40") here and cents on the wire to stores."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from autogrocery.contract.base import Body, Count, MoneyIn, NextCursor, Sku, Text, Timestamp
from autogrocery.contract.base import Money as Money

MAX_QUANTITY = 1000
MAX_LINES = 100
MAX_PRODUCTS = 1000

StoreId = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="An enrolled store.", examples=["north"]),
]
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


# --- requests ---------------------------------------------------------------------------


class TransferLineRequest(Body):
    sku: Sku
    quantity: Annotated[int, Meta(ge=1, le=MAX_QUANTITY)]


class TransferRequest(Body):
    from_store: StoreId
    to_store: StoreId
    items: Annotated[
        list[TransferLineRequest],
        Meta(
            min_length=1,
            max_length=MAX_LINES,
            description="1..100 lines; lines with the same SKU are merged.",
        ),
    ]


class CatalogProductRequest(Body):
    """What this version sets for one SKU; what is left out stays as the store has it.
    A SKU the chain does not know yet is a new product: name, aisle and price needed."""

    sku: Sku
    name: Text | UnsetType = UNSET
    aisle: Text | UnsetType = UNSET
    unit: Text | UnsetType = UNSET
    price: Annotated[MoneyIn, Meta(description="Above 0.")] | UnsetType = UNSET
    unit_cost: MoneyIn | UnsetType = UNSET
    min_level: Count | UnsetType = UNSET
    category: Text | UnsetType = UNSET
    brand: Text | UnsetType = UNSET
    size: Text | UnsetType = UNSET
    name_he: Text | UnsetType = UNSET
    keywords: Annotated[list[Text], Meta(max_length=50)] | UnsetType = UNSET


class CatalogRequest(Body):
    products: Annotated[
        list[CatalogProductRequest],
        Meta(min_length=1, max_length=MAX_PRODUCTS, description="Each SKU at most once."),
    ]


# --- responses --------------------------------------------------------------------------


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
            description="Units on hand in the store: its last heartbeat's count, else the sum "
            "of the levels it reported; null before either."
        ),
    ]


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


class StoreEventStats(Body):
    store_id: str
    events_applied: int
    duplicates: Annotated[int, Meta(description="Events that came again and were dropped.")]
    last_seq: Annotated[
        int, Meta(description="The store's high-water mark: its last event applied.")
    ]
    refused: Annotated[
        int,
        Meta(
            description="Messages from its stream refused: not an event, or claiming another "
            "store's id or subject."
        ),
    ]


class EventStats(Body):
    stores: list[StoreEventStats]
    refused_unattributed: Annotated[
        int, Meta(description="Refused messages of no enrolled store's stream.")
    ]


class HeadOfficeHealth(Body):
    status: Literal["ok"]
    role: Annotated[
        Literal["head-office"],
        Meta(
            description="What answers here: a chain's head office. `autogrocery dashboard "
            "--url` opens the chain's dashboard for it (a store's /healthz has no role)."
        ),
    ]


class Readiness(Body):
    status: Literal["ready", "not ready"]
    checks: Annotated[
        dict[str, str],
        Meta(
            description="Per component ('ok' or the failure): 'hub' (the nats-server answers "
            "its health check), 'read model' (writable), 'hub link', 'applier', and any "
            "background task or chain job that is failing."
        ),
    ]

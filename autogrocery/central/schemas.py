"""The head office API's request and response bodies, declared once as msgspec Structs:
they decode requests (`api.bodies.read_body`) and generate its OpenAPI document, as the
store's do. Money is a decimal string ("12.40") here and cents on the wire to stores.
The answers its dashboard reads (stores, stock, sales, transfers) are declared in the
contract (`autogrocery/contract/head_office.py`), which the dashboard shares; the
requests and the head office's own operations' answers are here."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from autogrocery.contract.base import Body, Count, MoneyIn, Request, Sku, Text
from autogrocery.contract.base import Money as Money

MAX_QUANTITY = 1000
MAX_LINES = 100
MAX_PRODUCTS = 1000

StoreId = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="An enrolled store.", examples=["north"]),
]

# --- requests ---------------------------------------------------------------------------


class TransferLineRequest(Request):
    sku: Sku
    quantity: Annotated[int, Meta(ge=1, le=MAX_QUANTITY)]


class TransferRequest(Request):
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


class CatalogProductRequest(Request):
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


class CatalogRequest(Request):
    products: Annotated[
        list[CatalogProductRequest],
        Meta(min_length=1, max_length=MAX_PRODUCTS, description="Each SKU at most once."),
    ]


# --- responses --------------------------------------------------------------------------


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
            "its health check; with a hub cluster, a majority of its nodes do), 'read "
            "model' (writable), 'hub link', 'applier' (one per intake shard), and any "
            "background task or chain job that is failing."
        ),
    ]
    hub_nodes: Annotated[
        dict[str, str],
        Meta(
            description="With a hub cluster (central.hub_nodes > 1), each node: 'ok' or "
            "'not healthy'. Shown, never a reason to be unready while a majority is up."
        ),
    ] = field(default_factory=dict)

"""Bodies of the catalog (routes_orders.py) and of the stock operators keep (routes_ops.py):
products, their levels, their changes and the movements ledger."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from autogrocery.contract.base import (
    Body,
    Count,
    Money,
    MoneyIn,
    NextCursor,
    Request,
    Sku,
    Text,
    Timestamp,
)

MovementType = Annotated[
    Literal["IN", "OUT", "WASTE", "ADJUST", "COUNT", "RETURN"],
    Meta(
        title="MovementType",
        description="RETURN: units picked for an order cancelled while robots picked it, "
        "back on the shelf (each follows the OUT it undoes, into the same lot).",
    ),
]


# --- requests ---------------------------------------------------------------------------


class ProductCreate(Request):
    sku: Sku
    name: Text
    aisle: Annotated[Text, Meta(description="An aisle robots already serve.")]
    unit: Text
    price: Annotated[MoneyIn, Meta(description="Above 0.")]
    unit_cost: MoneyIn
    min_level: Count
    on_hand: Annotated[Count, Meta(description="Opening stock, a COUNT movement.")] = 0


class ProductPatch(Request):
    """At least one field."""

    price: Annotated[MoneyIn, Meta(description="Above 0.")] | UnsetType = UNSET
    min_level: Count | UnsetType = UNSET
    name: Text | UnsetType = UNSET


class StockAdjustRequest(Request):
    delta: Annotated[
        int,
        Meta(
            ge=-10_000_000,
            le=10_000_000,
            description="Non-zero, negative for WASTE; on_hand may not fall below reserved.",
        ),
    ]
    reason: Literal["WASTE", "ADJUST", "COUNT"]
    note: Annotated[str, Meta(max_length=500)] | None = None
    lot_id: (
        Annotated[
            str,
            Meta(
                max_length=200,
                description="The lot to change; without it, stock is taken first-expired-"
                "first-out (waste: expired lots first) or added to the undated lot.",
            ),
        ]
        | None
    ) = None


# --- responses --------------------------------------------------------------------------


class CatalogItem(Body):
    sku: str
    name: str
    aisle: str
    unit: str
    price: Money
    available: Annotated[int, Meta(description="on_hand - reserved - expired: for sale now.")]
    category: str
    brand: str
    size: str
    container_type: Annotated[str, Meta(description="can, plastic, glass, bag, box, or ''.")]
    box_size: Annotated[int, Meta(description="Units in the box it comes in.")] | None
    name_en: str
    name_he: str


ShelfCursor = Annotated[
    str | None,
    Meta(
        description="Pass as ?cursor= for the next page; null on the last page (always "
        "null without `limit`)."
    ),
]


class Catalog(Body):
    items: list[CatalogItem]
    next_cursor: ShelfCursor


class InventoryItem(Body):
    sku: str
    name: str
    aisle: str
    on_hand: int
    reserved: int
    expired: Annotated[int, Meta(description="In expired lots, not yet written off: not for sale.")]
    available: Annotated[int, Meta(description="on_hand - reserved - expired.")]
    min_level: int
    price: Money
    unit_cost: Money


class Inventory(Body):
    items: list[InventoryItem]
    next_cursor: ShelfCursor


class Movement(Body):
    id: int
    sku: str
    type: MovementType
    delta: int
    ref: Annotated[str | None, Meta(description="Order or restock id, or a note.")]
    user: Annotated[str | None, Meta(description="The operator, if one caused it.")]
    at: Timestamp
    lot_id: Annotated[str, Meta(description="The lot it touched (see /api/ops/expiring).")]


class MovementList(Body):
    movements: list[Movement]
    next_cursor: NextCursor

"""Bodies of customers' orders and trucks' restocks (routes_orders.py): their lines, states,
history and pages."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from autogrocery.contract.base import (
    Body,
    IsoDate,
    Money,
    MoneyIn,
    NextCursor,
    OrderStatus,
    Request,
    Sku,
    Timestamp,
)

Quantity = Annotated[
    int,
    Meta(ge=1, description="Per SKU per order at most orders.max_quantity (default 1000)."),
]
LatencyMs = Annotated[
    float | None, Meta(description="completed_at - created_at in ms; null until finished.")
]


# --- requests ---------------------------------------------------------------------------


class OrderLineRequest(Request):
    sku: Sku
    quantity: Quantity


class RestockLineRequest(Request):
    sku: Sku
    quantity: Quantity
    unit_cost: Annotated[
        MoneyIn,
        Meta(
            description="Above 0 (the delivery reprices its SKU from it); lines of one SKU "
            "must agree on it."
        ),
    ]
    expiry_date: (
        Annotated[
            IsoDate,
            Meta(description="Best before (the store's date). A dated line becomes a lot."),
        ]
        | None
    ) = None
    mfd_date: Annotated[IsoDate, Meta(description="Made on; not after expiry_date.")] | None = None


LINES = "1..orders.max_lines lines (default 100); lines with the same SKU are merged."


class PreviewRequest(Request):
    items: Annotated[list[OrderLineRequest], Meta(min_length=1, description=LINES)]


class RestockRequest(Request):
    items: Annotated[list[RestockLineRequest], Meta(min_length=1, description=LINES)]


# --- responses --------------------------------------------------------------------------


class OrderLine(Body):
    sku: str
    name: str
    aisle: str
    quantity: int
    unit_price: Annotated[Money, Meta(description="Locked at preview.")]
    line_total: Money
    expiry_date: (
        Annotated[
            IsoDate,
            Meta(
                description="Only on a line of units from marked-down lots of this "
                "best-before date, billed at their markdown price (the SKU's other units "
                "are on its line without a date)."
            ),
        ]
        | UnsetType
    ) = UNSET


class Order(Body):
    order_id: Annotated[str, Meta(examples=["ord_0123456789abcdef0123"])]
    kind: Literal["CUSTOMER"]
    status: OrderStatus
    items: list[OrderLine]
    total: Annotated[Money, Meta(description="Locked at preview; the bill equals it.")]
    created_at: Timestamp
    confirmed_at: Timestamp | None
    completed_at: Timestamp | None
    latency_ms: LatencyMs
    expires_at: Annotated[Timestamp, Meta(description="Only while PREVIEWED.")] | UnsetType = UNSET
    reason: Annotated[str, Meta(description="Only on FAILED orders.")] | UnsetType = UNSET


class OrderState(Body):
    order_id: str
    status: OrderStatus


class OrderHistoryEntry(Body):
    status: OrderStatus
    at: Timestamp


class OrderHistory(Body):
    history: list[OrderHistoryEntry]


class OrderList(Body):
    orders: list[Order]
    next_cursor: NextCursor


class RestockLine(Body):
    sku: str
    name: str
    aisle: str
    quantity: int
    unit_cost: Money
    line_total: Money
    expiry_date: IsoDate | None
    mfd_date: IsoDate | None


class Restock(Body):
    restock_id: Annotated[str, Meta(examples=["rst_0123456789abcdef0123"])]
    kind: Literal["RESTOCK"]
    status: OrderStatus
    items: list[RestockLine]
    total_cost: Money
    created_at: Timestamp
    completed_at: Timestamp | None
    latency_ms: LatencyMs


class RestockReceipt(Body):
    restock_id: str
    status: Annotated[
        Literal["PROCESSING", "COMPLETED", "FAILED"],
        Meta(
            description="PROCESSING for a new restock; a repeat with the same "
            "Idempotency-Key that the store recognises shows the restock's state now."
        ),
    ]
    total_cost: Money


class RestockList(Body):
    restocks: list[Restock]
    next_cursor: NextCursor

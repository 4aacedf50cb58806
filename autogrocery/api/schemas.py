"""Every request and response body of the API, declared once as msgspec Structs.

Requests are decoded and validated by these types (`bodies.read_body`); the OpenAPI
document is generated from all of them (`openapi.py`); the API tests check every
response against the schema generated here. Handlers answer with plain dicts from the
store's views (encoded with orjson, the fastest path); the tests keep the two in step.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from autogrocery.domain.models import SKU_PATTERN

REF = "#/components/schemas/"
# [0-9], not \d: Python's \d (which checks requests) takes any Unicode digit.
MONEY_PATTERN = r"^[0-9]+\.[0-9]{2}$"
# Requests: at most 9 digits before the point, and trailing zeros may be left out.
MONEY_IN_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
CONVERSATION_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
Money = Annotated[
    str,
    Meta(
        pattern=MONEY_PATTERN,
        description="An amount as a decimal string with two places, never a float.",
        examples=["12.40"],
    ),
]
MoneyIn = Annotated[
    str,
    Meta(
        pattern=MONEY_IN_PATTERN,
        description="An amount as a decimal string, ASCII digits, at most 9 before the "
        'point and 2 after, like "12.40".',
        examples=["12.40"],
    ),
]
Timestamp = Annotated[
    str,
    Meta(
        description="RFC 3339 UTC, millisecond precision.",
        examples=["2024-05-01T12:00:00.000Z"],
        extra_json_schema={"format": "date-time"},
    ),
]
Role = Annotated[
    Literal["device", "truck", "operator"], Meta(title="Role", description="A caller's role.")
]
OrderStatus = Annotated[
    Literal["PREVIEWED", "PROCESSING", "COMPLETED", "CANCELLED", "EXPIRED", "FAILED"],
    Meta(
        title="OrderStatus",
        description="PREVIEWED -> PROCESSING -> COMPLETED; PREVIEWED -> CANCELLED | EXPIRED; "
        "PROCESSING -> FAILED (nothing billed, stock released).",
    ),
]
MovementType = Annotated[
    Literal["IN", "OUT", "WASTE", "ADJUST", "COUNT", "RETURN"],
    Meta(
        title="MovementType",
        description="RETURN: units picked for an order cancelled while robots picked it, "
        "back on the shelf (each follows the OUT it undoes, into the same lot).",
    ),
]
Username = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=64,
        description="Letters, digits, '.', '_', '-', '@'; compared and stored as RFC 8265 "
        "(PRECIS UsernameCaseMapped) enforces it: `Admin` and fullwidth `admin` (U+FF41…) "
        "are `admin`. Letters from more than one script (a Cyrillic U+0430 among Latin "
        "letters) are refused.",
    ),
]
Password = Annotated[
    str, Meta(min_length=8, description="At least 8 characters, at most 72 bytes (UTF-8).")
]
Sku = Annotated[
    str,
    Meta(
        pattern=SKU_PATTERN,
        examples=["BRD-001"],
        description="1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    ),
]
Text = Annotated[str, Meta(min_length=1, max_length=200)]
Quantity = Annotated[
    int,
    Meta(ge=1, description="Per SKU per order at most orders.max_quantity (default 1000)."),
]
Count = Annotated[int, Meta(ge=0, le=10_000_000)]
NextCursor = Annotated[
    str | None,
    Meta(description="Pass as ?cursor= for the next (older) page; null on the last page."),
]
LatencyMs = Annotated[
    float | None, Meta(description="completed_at - created_at in ms; null until finished.")
]


class Body(Struct, forbid_unknown_fields=True):
    """Every body rejects fields it does not declare (requests get a 400 naming them)."""


# --- requests ---------------------------------------------------------------------------


class RegisterRequest(Body):
    username: Username
    password: Password
    email: str | None = None
    phone: str | None = None


class LoginRequest(Body):
    username: str
    password: str


class RefreshRequest(Body):
    refresh_token: Annotated[str, Meta(description="From login or the last refresh.")]


class CreateAccountRequest(Body):
    username: Username
    password: Password
    role: Role


class OrderLineRequest(Body):
    sku: Sku
    quantity: Quantity


IsoDate = Annotated[
    str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-01"], description="YYYY-MM-DD")
]


class RestockLineRequest(Body):
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


class PreviewRequest(Body):
    items: Annotated[list[OrderLineRequest], Meta(min_length=1, description=LINES)]


class RestockRequest(Body):
    items: Annotated[list[RestockLineRequest], Meta(min_length=1, description=LINES)]


class ProductCreate(Body):
    sku: Sku
    name: Text
    aisle: Annotated[Text, Meta(description="An aisle robots already serve.")]
    unit: Text
    price: Annotated[MoneyIn, Meta(description="Above 0.")]
    unit_cost: MoneyIn
    min_level: Count
    on_hand: Annotated[Count, Meta(description="Opening stock, a COUNT movement.")] = 0


class ProductPatch(Body):
    """At least one field."""

    price: Annotated[MoneyIn, Meta(description="Above 0.")] | UnsetType = UNSET
    min_level: Count | UnsetType = UNSET
    name: Text | UnsetType = UNSET


class StockAdjustRequest(Body):
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


class CommandRequest(Body):
    text: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=300,
            description="What happened to the stock, in plain words (English or Hebrew), or "
            "the answer to the conversation's last question.",
            examples=["took 3 small cola", "2", "לקחתי 3 קולה קטן"],
        ),
    ]
    conversation_id: (
        Annotated[
            str,
            Meta(
                pattern=CONVERSATION_PATTERN,
                description="The conversation to continue (from an earlier reply); leave "
                "it out to start one.",
            ),
        ]
        | UnsetType
    ) = UNSET


# --- responses --------------------------------------------------------------------------


class FieldError(Body):
    field: Annotated[str, Meta(examples=["items[0].quantity"])]
    message: str


class Shortage(Body):
    sku: str
    requested: int
    available: int


class Problem(Body):
    """RFC 9457 problem details, sent as application/problem+json."""

    type: Annotated[str, Meta(examples=["https://autogrocery.dev/problems/invalid-request"])]
    title: str
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: Annotated[str, Meta(description="What went wrong; never a stack trace.")]
    instance: Annotated[str, Meta(description="The request path.")] | UnsetType = UNSET
    errors: list[FieldError] | UnsetType = UNSET
    shortages: list[Shortage] | UnsetType = UNSET
    retry_after: (
        Annotated[int, Meta(ge=1, description="Seconds to wait before retrying, as Retry-After.")]
        | UnsetType
    ) = UNSET
    aisles: (
        Annotated[
            list[str],
            Meta(description="On a refused confirm (503): the aisles no robot serves now."),
        ]
        | UnsetType
    ) = UNSET


class Account(Body):
    user_id: Annotated[str, Meta(examples=["usr_0123456789abcdef0123"])]
    username: str
    role: Role


class AccountState(Body):
    user_id: Annotated[str, Meta(examples=["usr_0123456789abcdef0123"])]
    username: str
    role: Role
    disabled: Annotated[bool, Meta(description="A disabled account's tokens are refused.")]


class TokenPair(Body):
    access_token: Annotated[str, Meta(description="HS256 JWT: sub, name, role, iat, exp, jti.")]
    refresh_token: Annotated[str, Meta(description="Opaque and single-use.")]
    token_type: Literal["Bearer"]
    expires_in: Annotated[int, Meta(description="Access-token lifetime in seconds.")]
    role: Role


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


class Catalog(Body):
    items: list[CatalogItem]


class OrderLine(Body):
    sku: str
    name: str
    aisle: str
    quantity: int
    unit_price: Annotated[Money, Meta(description="Locked at preview.")]
    line_total: Money


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


class CommandChoice(Body):
    number: Annotated[int, Meta(ge=1, description="Answer with it (or with the name).")]
    sku: str
    name: Annotated[str, Meta(description="In the language of the command.")]
    on_hand: int


class CommandMovement(Body):
    sku: str
    type: MovementType
    delta: Annotated[int, Meta(description="Negative for OUT and WASTE, positive for IN.")]
    note: Annotated[str, Meta(description="The command as typed.")]


class CommandReply(Body):
    conversation_id: Annotated[str, Meta(pattern=CONVERSATION_PATTERN)]
    status: Annotated[
        Literal["question", "done", "cancelled", "failed"],
        Meta(
            description="question: answer it in this conversation; done: recorded (or "
            "nothing to change); cancelled or failed: nothing recorded."
        ),
    ]
    text: Annotated[str, Meta(description="The reply, in the language of the command.")]
    language: Literal["en", "he"]
    question: Annotated[
        Literal[
            "action",
            "product",
            "did_you_mean",
            "which",
            "quantity",
            "unit",
            "measure",
            "short",
            "confirm",
        ]
        | None,
        Meta(
            description="What is asked: the action (took, threw away, counted, got); the "
            "product; did you mean one of `choices` (nothing matched); which of `choices` "
            "(several matched); how many; boxes or units; measure: is the number in the "
            "product's unit (kg, dozen) when the command did not say; take what there is "
            "(not enough on hand, a yes records it); confirm: record `proposal`? (yes or no)."
        ),
    ]
    choices: list[CommandChoice]
    movement: Annotated[
        CommandMovement | None,
        Meta(description="The movement recorded, with the caller as its user."),
    ]
    proposal: Annotated[
        CommandMovement | None,
        Meta(description="With `question` confirm: what a yes records (nothing is yet)."),
    ]
    product: Annotated[
        InventoryItem | None, Meta(description="The product's levels after the movement.")
    ]
    expires_at: Annotated[
        Timestamp | None, Meta(description="Until when the question waits for an answer.")
    ]


class RobotWork(Body):
    """The long task a robot is at, as it last reported (it reports every second)."""

    task_id: str
    order_id: str
    op: Literal["PICK", "SHELVE"]
    done: int
    of: int


class Robot(Body):
    robot_id: str
    aisle: str
    host: str
    state: Literal["idle", "busy", "offline"]
    last_seen: Timestamp | None
    tasks_done: int
    tasks_failed: int
    working_on: RobotWork | None = None


class RobotList(Body):
    robots: list[Robot]


class Latency(Body):
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


class KindAnalytics(Body):
    completed: int
    failed: int
    cancelled: Annotated[int, Meta(description="Cancelled while robots picked them.")]
    latency_ms: Latency
    per_minute: Annotated[int, Meta(description="Finished in the last 60 s.")]


class Analytics(Body):
    customer: KindAnalytics
    restock: KindAnalytics


class Alert(Body):
    kind: Annotated[
        Literal["low", "expiring"],
        Meta(description="low: available below min_level; expiring: a lot due soon."),
    ]
    sku: str
    name: str
    aisle: str
    available: int
    min_level: int
    raised_at: Timestamp
    lot_id: Annotated[str, Meta(description="expiring: the lot.")] | UnsetType = UNSET
    expiry_date: IsoDate | UnsetType | None = UNSET
    quantity: Annotated[int, Meta(description="expiring: what the lot holds.")] | UnsetType = UNSET


class AlertList(Body):
    alerts: list[Alert]


class LedgerCheck(Body):
    sku: str
    on_hand: int
    reserved: int
    ledger: Annotated[int, Meta(description="The sum of the SKU's movements.")]
    ok: Annotated[bool, Meta(description="ledger == on_hand and 0 <= reserved <= on_hand.")]


class Reconciliation(Body):
    ok: bool
    items: list[LedgerCheck]


class Health(Body):
    status: Literal["ok", "unhealthy"]
    reason: Annotated[str, Meta(description="Why the process should be restarted.")] | UnsetType = (
        UNSET
    )


class Replication(Body):
    replica: Annotated[str, Meta(description="Where to: the replica's URL.")]
    running: Annotated[bool, Meta(description="The litestream process runs.")]
    lag_s: Annotated[
        float,
        Meta(description="Seconds since the replica last held all the store had committed."),
    ]
    restarts: Annotated[int, Meta(description="Times litestream died and was restarted.")]
    last_error: Annotated[
        str | None, Meta(description="Litestream's last error, until it caught up again.")
    ]


class Readiness(Body):
    status: Literal["ready", "not ready"]
    checks: Annotated[
        dict[str, str],
        Meta(
            description="Per component: each actor, each aisle's robots, 'actors', 'store', "
            "each background 'task …' ('ok' or the failure); also 'writes' while the "
            "store's writes fail (a full disk) and 'core' once the core is no longer "
            "restarted."
        ),
    ]
    replication: (
        Annotated[
            Replication,
            Meta(
                description="With [replicate]: Litestream replicating the store's database. "
                "It never makes the store unready (sales do not wait for the replica); "
                "alert on autogrocery_replication_lag_seconds instead."
            ),
        ]
        | UnsetType
    ) = UNSET


class ExpiringLot(Body):
    lot_id: str
    sku: str
    name: str
    aisle: str
    expiry_date: IsoDate | None
    days_left: Annotated[int, Meta(description="Negative: expired that many days ago.")] | None
    expired: bool
    on_hand: int
    held: Annotated[int, Meta(description="Held by open orders (reserved while good).")]
    unit_cost: Money


class ExpiringLots(Body):
    lots: list[ExpiringLot]


class UsageDay(Body):
    date: IsoDate
    quantity: int


class SkuUsage(Body):
    sku: str
    total: int
    days: list[UsageDay]


SpanDays = Annotated[
    float,
    Meta(
        description="The days the usage is spread over, for rates per day: the period, or "
        "the store's age when it is younger (at least a minute)."
    ),
]


class UsageReport(Body):
    from_: Annotated[IsoDate, Meta(description="The first day (the store's date).")] = (
        msgspec.field(name="from")
    )
    to: IsoDate
    span_days: SpanDays
    skus: list[SkuUsage]


class SkuWaste(Body):
    sku: str
    quantity: int
    value: Annotated[Money, Meta(description="At the cost of the lots it came from.")]


class WasteReport(Body):
    from_: IsoDate = msgspec.field(name="from")
    to: IsoDate
    total_value: Money
    skus: list[SkuWaste]


class ReorderSuggestion(Body):
    sku: str
    available: int
    min_level: int
    daily_usage: float
    days_of_cover: float | None
    quantity: Annotated[int, Meta(description="To order now.")]


class ReorderReport(Body):
    usage_days: int
    span_days: SpanDays
    lead_time_days: int
    suggestions: list[ReorderSuggestion]

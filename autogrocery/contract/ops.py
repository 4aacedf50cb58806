"""Bodies of operations and reports (routes_ops.py, routes_reports.py, routes_live.py):
robots, analytics, alerts, the ledger's reconciliation, health and readiness, expiring
lots, and the usage, waste and reorder reports."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from autogrocery.contract.base import Body, IsoDate, Money, Timestamp
from autogrocery.contract.markdowns import MarkdownEffect


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
    ok: Annotated[bool, Meta(description="Every SKU of the store passes.")]
    checked: Annotated[int, Meta(description="How many SKUs were checked: all of them.")]
    items: Annotated[
        list[LedgerCheck],
        Meta(description="The SKUs that fail; with `limit`, a page of every SKU."),
    ]
    next_cursor: Annotated[
        str | None, Meta(description="Send as `cursor` for the next page; null on the last.")
    ] = None


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
    next_cursor: Annotated[
        str | None, Meta(description="Send as `cursor` for the next page; null on the last.")
    ] = None


class UsageDay(Body):
    date: IsoDate
    quantity: int


class UsageMonth(Body):
    month: Annotated[str, Meta(pattern="^[0-9]{4}-[0-9]{2}$", examples=["2026-11"])]
    quantity: int


class SkuUsage(Body):
    sku: str
    total: int
    days: Annotated[list[UsageDay], Meta(description="With `by=day` (the default).")] | (
        UnsetType
    ) = UNSET
    months: Annotated[list[UsageMonth], Meta(description="With `by=month`.")] | UnsetType = UNSET


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
    next_cursor: Annotated[
        str | None, Meta(description="Send as `cursor` for the next page; null on the last.")
    ] = None


class SkuWaste(Body):
    sku: str
    quantity: int
    value: Annotated[Money, Meta(description="At the cost of the lots it came from.")]


class WasteReport(Body):
    from_: IsoDate = msgspec.field(name="from")
    to: IsoDate
    total_value: Annotated[
        Money | None, Meta(description="Of every SKU; null on a page (add up its pages').")
    ]
    skus: list[SkuWaste]
    next_cursor: Annotated[
        str | None, Meta(description="Send as `cursor` for the next page; null on the last.")
    ] = None
    markdowns: Annotated[
        MarkdownEffect | None,
        Meta(description="Of every SKU: waste with and without markdowns; null on a page."),
    ] = None


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

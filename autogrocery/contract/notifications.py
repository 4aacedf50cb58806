"""Bodies of an operator's notification preferences (routes_notifications.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from autogrocery.contract.base import Body, Request

NoticeKind = Annotated[
    Literal[
        "low_stock",
        "expiring",
        "expired",
        "large_movement",
        "robot_offline",
        "head_office_unreachable",
    ],
    Meta(
        title="NoticeKind",
        description="low_stock: a SKU fell below its min level; expiring: a lot is due "
        "within stock.expiry_alert_days; expired: expired lots were written off; "
        "large_movement: an adjustment of stock.large_movement_units or more; "
        "robot_offline: a robot stopped answering; head_office_unreachable: the link to "
        "the head office was down notify.head_office_after seconds.",
    ),
]
Clock = Annotated[
    str,
    Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$(?![\s\S])", examples=["22:00"], description="HH:MM"),
]
Email = Annotated[
    str,
    Meta(
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$(?![\s\S])",  # nothing after: not even a newline
        examples=["manager@example.com"],
    ),
]


class QuietHours(Body, forbid_unknown_fields=True):
    start: Clock
    end: Annotated[Clock, Meta(description="May be before start: the night, 22:00-07:00.")]


class Preferences(Request):
    email: Annotated[Email | None, Meta(description="Where mail goes; null: no mail.")]
    events: Annotated[list[NoticeKind], Meta(max_length=6)]
    mode: Annotated[
        Literal["immediate", "digest"],
        Meta(description="immediate: a mail per notice; digest: one a day at notify.daily_at."),
    ] = "immediate"
    quiet_hours: Annotated[
        QuietHours | None,
        Meta(
            description="Store time in which nothing is mailed: what comes then waits, and "
            "goes as one mail when they end."
        ),
    ] = None
    daily_report: Annotated[
        bool,
        Meta(description="The daily report (sales, waste, what to reorder, what is at risk)."),
    ] = False


class PreferencesView(Body):
    email: str | None
    events: list[NoticeKind]
    mode: Literal["immediate", "digest"]
    quiet_hours: QuietHours | None
    daily_report: bool
    mail_configured: Annotated[
        bool, Meta(description="false: the store has no notify.smtp_host, so nothing is mailed.")
    ]

"""Bodies of the webhooks (routes_webhooks.py): other systems told of alerts."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from autogrocery.contract.base import Body, Request, Timestamp

WebhookEvent = Annotated[
    Literal["alert.raised", "alert.cleared"],
    Meta(
        title="WebhookEvent",
        description="An event a webhook is sent: an alert raised or cleared (its `kind`, "
        "low or expiring, is in the body), as the event socket carries it.",
    ),
]
WebhookUrl = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=2000,
        examples=["https://bots.example.com/autogrocery"],
        description="http or https. Not an address of the store's own network (private, "
        "link-local, reserved) unless `notify.allow_private_urls`; loopback is allowed.",
    ),
]
Events = Annotated[list[WebhookEvent], Meta(min_length=1, max_length=10)]
Description = Annotated[str, Meta(max_length=200)]


class CreateWebhookRequest(Request):
    url: WebhookUrl
    events: Events
    description: Description = ""


class ChangeWebhookRequest(Request):
    url: WebhookUrl | UnsetType = UNSET
    events: Events | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    paused: (
        Annotated[
            bool,
            Meta(description="true: nothing is sent, deliveries queue; false: they go again."),
        ]
        | UnsetType
    ) = UNSET


class Webhook(Body):
    webhook_id: Annotated[str, Meta(examples=["whk_0123456789abcdef0123"])]
    url: str
    events: list[WebhookEvent]
    description: str
    paused: bool
    created_by: str
    created_at: Timestamp
    pending: Annotated[int, Meta(description="Deliveries queued or being retried.")]
    failed: Annotated[int, Meta(description="Deliveries given up on (kept a week).")]


class NewWebhook(Webhook):
    secret: Annotated[
        str,
        Meta(
            description="Signs every delivery (X-Autogrocery-Signature). Shown only here, "
            "once: keep it where the receiver can read it."
        ),
    ]


class WebhookList(Body):
    webhooks: list[Webhook]


class Try(Body):
    at: Timestamp
    status_code: Annotated[int | None, Meta(description="null: no answer.")]
    ms: Annotated[float, Meta(description="How long it took.")]
    error: Annotated[str | None, Meta(description="Why it failed; null: delivered.")]


class Delivery(Body):
    delivery_id: Annotated[
        str, Meta(description="X-Autogrocery-Delivery: the same on every retry of it.")
    ]
    event: Literal["alert.raised", "alert.cleared", "webhook.ping"]
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: Timestamp
    last_status: Annotated[
        int | None, Meta(description="The receiver's last HTTP status; null: no answer.")
    ]
    last_ms: Annotated[float | None, Meta(description="How long the last attempt took.")]
    last_error: Annotated[str | None, Meta(description="Why the last attempt failed.")]
    next_attempt_at: Annotated[
        Timestamp | None, Meta(description="When it is tried next (pending only).")
    ]
    finished_at: Timestamp | None
    tries: Annotated[list[Try], Meta(description="Its attempts, the last ten, oldest first.")]


class Queued(Body):
    delivery_id: Annotated[str, Meta(description="Watch it in the webhook's deliveries.")]


class DeliveryList(Body):
    deliveries: Annotated[list[Delivery], Meta(description="The most recent first.")]

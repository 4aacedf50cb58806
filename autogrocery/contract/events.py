"""The live events of /api/events (WebSocket text frames), declared for the OpenAPI
document and checked against real frames in the tests."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from autogrocery.contract.base import Body, Timestamp
from autogrocery.contract.chain import Transfer
from autogrocery.contract.ops import Alert, Robot
from autogrocery.contract.orders import Order, Restock
from autogrocery.contract.stock import InventoryItem

Seq = Annotated[
    int,
    Meta(ge=1, description="1, 2, 3, ... on each connection, without gaps (see events.dropped)."),
]


class MetricsTick(Body):
    orders: Annotated[
        dict[str, dict[str, int]], Meta(description="By kind (customer, restock), then status.")
    ]
    robots_alive: Annotated[dict[str, int], Meta(description="Robots online, by aisle.")]
    loop_lag_ms: Annotated[float, Meta(description="The event loop's worst lag last second.")]


class Dropped(Body):
    count: Annotated[int, Meta(ge=1, description="Events lost.")]
    from_seq: Annotated[int, Meta(ge=1, description="The seq of the first event lost.")]


class EventBase(Body, tag_field="type"):
    seq: Seq
    at: Timestamp


class OrderUpdated(EventBase, tag="order.updated"):
    data: Order


class RestockUpdated(EventBase, tag="restock.updated"):
    data: Restock


class TransferUpdated(EventBase, tag="transfer.updated"):
    """This store's part of a chain's transfer moved on (operators only)."""

    data: Transfer


class StockChanged(EventBase, tag="stock.changed"):
    """A product's levels or price changed: the product as `GET /api/ops/inventory` shows
    it. At most one per product per batch of changes."""

    data: InventoryItem


class AlertRaised(EventBase, tag="alert.raised"):
    """Available stock fell below the min level: the alert as `GET /api/ops/alerts`
    shows it."""

    data: Alert


class AlertCleared(EventBase, tag="alert.cleared"):
    """The product is back at or above its min level (`raised_at`: when it was raised)."""

    data: Alert


class RobotUpdated(EventBase, tag="robot.updated"):
    """At most one per robot per 250 ms; the latest state wins."""

    data: Robot


class MetricsTicked(EventBase, tag="metrics.tick"):
    data: MetricsTick


class EventsDropped(EventBase, tag="events.dropped"):
    """This connection fell behind and lost `count` events from `from_seq` on; its seq is
    that of the last one lost. Resync with the GETs named in /api/events."""

    data: Dropped


Event = (
    OrderUpdated
    | RestockUpdated
    | TransferUpdated
    | StockChanged
    | AlertRaised
    | AlertCleared
    | RobotUpdated
    | MetricsTicked
    | EventsDropped
)

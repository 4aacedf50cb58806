"""Events published to live subscribers (dashboard, WebSocket clients)."""

from __future__ import annotations

from dataclasses import dataclass

ORDER_UPDATED = "order.updated"
RESTOCK_UPDATED = "restock.updated"
TRANSFER_UPDATED = "transfer.updated"  # a chain's transfer, as this store does its part
STOCK_CHANGED = "stock.changed"
ROBOT_UPDATED = "robot.updated"
ALERT_RAISED = "alert.raised"
ALERT_CLEARED = "alert.cleared"
METRICS_TICK = "metrics.tick"

EVENT_TYPES = frozenset(
    {
        ORDER_UPDATED,
        RESTOCK_UPDATED,
        TRANSFER_UPDATED,
        STOCK_CHANGED,
        ROBOT_UPDATED,
        ALERT_RAISED,
        ALERT_CLEARED,
        METRICS_TICK,
    }
)


# Notices beyond the alerts' (store/notify_schema.py): kept for mail, not on the socket.
STOCK_EXPIRED = "stock.expired"  # expired lots written off, by the expiry sweep
LARGE_MOVEMENT = "stock.large_movement"  # an adjustment of stock.large_movement_units or more
ROBOT_OFFLINE = "robot.offline"  # a robot stopped answering
HEAD_OFFICE_UNREACHABLE = "chain.unreachable"  # the hub link down notify.head_office_after


@dataclass(frozen=True, slots=True)
class Event:
    """`data`: the record the event is about (an order, a stock level, an alert), or for
    robots, metrics and notices their JSON object."""

    type: str
    at: str
    data: object
    owner: str | None = None  # the device an order event belongs to; None: operators only

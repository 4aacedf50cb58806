"""What the dashboard knows about the store: a snapshot plus the live events since.

Everything is kept as the API's own Structs (`autogrocery/contract/`): an order as its
`Order`, a product as its `InventoryItem`, a live event as its event. Applying an event
only replaces a Struct and marks a panel dirty; the app redraws dirty
panels on a timer (a few times a second), so a burst of a thousand events costs one
redraw. `sample()` runs once a second and turns counters into the time series that
the sparklines draw. The reports are not in the events: they are fetched while their
panel is shown, soon after an event that changes what they count (`reports_due`).
No textual here.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import msgspec

from autogrocery.contract.chain import ChainLink
from autogrocery.contract.events import (
    AlertCleared,
    AlertRaised,
    Event,
    MetricsTick,
    MetricsTicked,
    OrderUpdated,
    RestockUpdated,
    RobotUpdated,
    StockChanged,
)
from autogrocery.contract.ops import (
    Alert,
    Analytics,
    ExpiringLot,
    ReorderReport,
    Robot,
    UsageReport,
    WasteReport,
)
from autogrocery.contract.orders import Order, Restock
from autogrocery.contract.stock import InventoryItem

PANELS = ("orders", "inventory", "robots", "analytics", "alerts", "reports")
STATUSES = ("PREVIEWED", "PROCESSING", "COMPLETED", "CANCELLED", "EXPIRED", "FAILED")
KINDS = ("CUSTOMER", "RESTOCK")
MAX_ORDERS = 400  # the most recent customer orders the dashboard keeps
MAX_RESTOCKS = 200  # and restocks, apart: a busy store's orders never push them out
HISTORY = 120  # samples (seconds) per time series
LATENCY_WINDOW = 10.0  # seconds of completed orders behind each latency percentile
REPORTS_SOON = 5.0  # seconds: the reports are fetched at most this often
REPORTS_EVERY = 30.0  # and at least this often while shown, if no event changed them


@dataclass(slots=True)
class Snapshot:
    """Everything the dashboard loads when it (re)connects."""

    inventory: list[InventoryItem]
    orders: list[Order]
    restocks: list[Restock]
    robots: list[Robot]
    alerts: list[Alert]
    analytics: Analytics | None = None


@dataclass(frozen=True, slots=True)
class Reports:
    """The reports panel's figures, as the store last gave them (`GET /api/ops/expiring`
    and `/api/ops/reports/*`)."""

    expiring: list[ExpiringLot]
    reorder: ReorderReport
    usage: UsageReport
    waste: WasteReport
    within: int  # days ahead of the expiring list
    at: float | None = None  # wall clock when the store gave them


@dataclass(slots=True)
class Series:
    """Time series for the analytics charts, one point per `sample()`."""

    per_minute: collections.deque[float] = field(
        default_factory=lambda: collections.deque(maxlen=HISTORY)
    )
    completed_per_second: collections.deque[float] = field(
        default_factory=lambda: collections.deque(maxlen=HISTORY)
    )
    p50: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=HISTORY))
    p95: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=HISTORY))
    p99: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=HISTORY))


View = Order | Restock  # what the orders panel lists: customer orders and restocks
V = TypeVar("V", Order, Restock)


def order_key(view: View) -> str:
    return view.order_id if isinstance(view, Order) else view.restock_id


def is_restock(view: View) -> bool:
    return isinstance(view, Restock)


def created(view: View) -> str:
    return view.created_at


def percentile(ordered: list[float], p: float) -> float:
    return ordered[round(p * (len(ordered) - 1))] if ordered else 0.0


def expiry_alert(alert: Alert) -> bool:
    """An alert for a lot that expires soon; the others are low-stock alerts (by SKU)."""
    return alert.kind == "expiring"


def alert_key(alert: Alert) -> str:
    """An open alert's key: its lot for an expiry alert, its SKU for a low-stock one."""
    return str(alert.lot_id) if expiry_alert(alert) else alert.sku


class StoreModel:
    """The dashboard's copy of the store. Two feeds fill the analytics side and are
    kept apart: `analytics` is the `GET /api/ops/analytics` summary (polled), `tick`
    the latest `metrics.tick` event (the store's order counts, robots alive, loop lag).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.orders: dict[str, Order] = {}  # customer orders, oldest first
        self.restocks: dict[str, Restock] = {}  # restocks, oldest first
        self.inventory: dict[str, InventoryItem] = {}
        self.low: set[str] = set()  # SKUs below their min level: counted without a scan
        self.stock_history: dict[str, collections.deque[int]] = {}
        self.robots: dict[str, Robot] = {}
        # Every open alert, by `alert_key`: what the status line, the Alerts tab and its
        # panel count (one number everywhere: `len(alerts)`).
        self.alerts: dict[str, Alert] = {}
        self.reports: Reports | None = None
        self.reports_error: str | None = None  # why the last fetch failed, verbatim
        self._reports_asked: float | None = None  # clock() when the last fetch began
        self._reports_stale = True  # an event changed what they count since then
        self.analytics: Analytics | None = None
        self.tick: MetricsTick | None = None
        # The store's link to its head office (GET /api/ops/chain), polled; None: the
        # store is in no chain (or not known yet).
        self.chain: ChainLink | None = None
        self.series = Series()
        self.events = 0
        self.dirty: set[str] = set(PANELS)
        self._finished: collections.deque[tuple[float, float]] = collections.deque()
        self._completed_since_sample = 0
        self._seen_completed: set[str] = set()

    # --- loading ---------------------------------------------------------------------

    def load(self, snapshot: Snapshot) -> None:
        """Replace what is known with a fresh snapshot (on connect and reconnect)."""
        self.inventory = {item.sku: item for item in snapshot.inventory}
        self.low = {sku for sku, item in self.inventory.items() if self.low_stock(item)}
        for sku, item in self.inventory.items():
            history = self.stock_history.setdefault(sku, collections.deque(maxlen=HISTORY))
            if not history:
                history.append(item.available)
        self.orders, self.restocks = {}, {}
        views: list[View] = [*snapshot.orders, *snapshot.restocks]
        for view in sorted(views, key=created):
            self._put_order(view)
        self._seen_completed = {
            key
            for known in (self.orders, self.restocks)
            for key, view in known.items()
            if view.status == "COMPLETED"
        }
        self.robots = {robot.robot_id: robot for robot in snapshot.robots}
        self.set_alerts(snapshot.alerts)
        self._reports_stale = True
        if snapshot.analytics is not None:
            self.analytics = snapshot.analytics
        self.dirty.update(PANELS)

    def merge_orders(self, views: Iterable[View]) -> None:
        """Orders or restocks fetched for a filter (or a restock just submitted): known
        ones are updated, others added."""
        for view in sorted(views, key=created):
            self._put_order(view)
        self.dirty.add("orders")

    def set_robots(self, robots: list[Robot]) -> None:
        self.robots = {robot.robot_id: robot for robot in robots}
        self.dirty.add("robots")

    def set_alerts(self, alerts: list[Alert]) -> None:
        """`GET /api/ops/alerts`: every open alert, low stock and expiring lots."""
        self.alerts = {alert_key(a): a for a in alerts}
        self.dirty.add("alerts")

    def set_analytics(self, summary: Analytics) -> None:
        """The store's all-time summary, by kind (customer, restock). The orders
        per minute chart's newest point takes the new rate at once, so the chart and the
        line above it never disagree for a second."""
        self.analytics = summary
        if self.series.per_minute:
            self.series.per_minute[-1] = _per_minute(summary)
        self.dirty.add("analytics")

    def set_tick(self, tick: MetricsTick) -> None:
        """A `metrics.tick`: order counts by kind and status, robots alive, loop lag."""
        self.tick = tick
        self.dirty.add("analytics")

    # --- live events -----------------------------------------------------------------

    def apply(self, event: Event) -> None:
        self.events += 1
        if isinstance(event, OrderUpdated | RestockUpdated):
            self._order_event(event.data)
        elif isinstance(event, StockChanged):
            self.put_stock(event.data)
        elif isinstance(event, RobotUpdated):
            self.robots[event.data.robot_id] = event.data
            self.dirty.add("robots")
        elif isinstance(event, AlertRaised | AlertCleared):
            self._alert_event(event)
        elif isinstance(event, MetricsTicked):
            self.set_tick(event.data)

    def _alert_event(self, event: AlertRaised | AlertCleared) -> None:
        data = event.data
        if expiry_alert(data):
            self._reports_stale = True  # the expiring lots' report
            raised = data
        else:
            self._levels(data)  # a low-stock alert carries the SKU's levels
            raised = msgspec.structs.replace(data, raised_at=event.at)
        key = alert_key(data)
        if isinstance(event, AlertRaised):
            self.alerts[key] = raised
        elif self.alerts.pop(key, None) is None:
            return
        self.dirty.add("alerts")

    def _order_event(self, view: View) -> None:
        key = order_key(view)
        if view.status == "COMPLETED" and key not in self._seen_completed:
            self._seen_completed.add(key)
            if isinstance(view, Order):
                self._completed_since_sample += 1
                if view.latency_ms is not None:
                    self._finished.append((self.clock(), view.latency_ms))
        self._put_order(view)
        self.dirty.add("orders")

    def _put_order(self, view: View) -> None:
        key = order_key(view)
        if isinstance(view, Restock):
            self._keep(self.restocks, key, view, MAX_RESTOCKS)
        else:
            self._keep(self.orders, key, view, MAX_ORDERS)

    def _keep(self, kept: dict[str, V], key: str, view: V, most: int) -> None:
        """The order as it is now, where it was (a new one last), the oldest dropped."""
        known = key in kept
        kept[key] = view
        if known:
            return
        while len(kept) > most:
            oldest = next(iter(kept))
            del kept[oldest]
            self._seen_completed.discard(oldest)

    def put_stock(self, item: InventoryItem) -> None:
        """A product as the store says it is now (its event, or a re-read)."""
        if item.sku not in self.inventory:
            self.stock_history[item.sku] = collections.deque([item.available], maxlen=HISTORY)
        self.inventory[item.sku] = item
        self._stock_moved(item)

    def _levels(self, alert: Alert) -> None:
        """A low-stock alert's levels, on its product (one the snapshot did not have
        comes with its own `stock.changed`)."""
        item = self.inventory.get(alert.sku)
        if item is not None:
            item = msgspec.structs.replace(
                item, available=alert.available, min_level=alert.min_level
            )
            self.inventory[alert.sku] = item
            self._stock_moved(item)

    def _stock_moved(self, item: InventoryItem) -> None:
        if self.low_stock(item):
            self.low.add(item.sku)
        else:
            self.low.discard(item.sku)
        self.dirty.add("inventory")
        self._reports_stale = True  # usage, waste or what to reorder may have moved

    # --- reports ---------------------------------------------------------------------

    def reports_due(self, *, shown: bool = False, every: float = REPORTS_EVERY) -> bool:
        """Whether to fetch the reports again: `REPORTS_SOON` after the last fetch if an
        event changed what they count, if it failed, or if the panel just came into view;
        otherwise `every` seconds after it."""
        if self._reports_asked is None:
            return True
        soon = shown or self._reports_stale or self.reports is None or bool(self.reports_error)
        waited = self.clock() - self._reports_asked
        return waited >= (min(REPORTS_SOON, every) if soon else every)

    def reports_asked(self) -> None:
        """A fetch begins: events from now on make the next one due."""
        self._reports_asked = self.clock()
        self._reports_stale = False

    def set_reports(self, reports: Reports) -> None:
        self.reports = reports
        self.reports_error = None
        self.dirty.add("reports")

    def reports_failed(self, reason: str) -> None:
        self.reports_error = reason
        self.dirty.add("reports")

    # --- time series -----------------------------------------------------------------

    def sample(self) -> None:
        """One point per series: call once a second."""
        for sku, item in self.inventory.items():
            history = self.stock_history.setdefault(sku, collections.deque(maxlen=HISTORY))
            history.append(item.available)
        cutoff = self.clock() - LATENCY_WINDOW
        while self._finished and self._finished[0][0] < cutoff:
            self._finished.popleft()
        latencies = sorted(latency for _, latency in self._finished)
        s = self.series
        s.p50.append(percentile(latencies, 0.50))
        s.p95.append(percentile(latencies, 0.95))
        s.p99.append(percentile(latencies, 0.99))
        s.completed_per_second.append(float(self._completed_since_sample))
        self._completed_since_sample = 0
        s.per_minute.append(_per_minute(self.analytics))
        self.dirty.update(("inventory", "analytics"))

    # --- views -----------------------------------------------------------------------

    def recent_orders(
        self, status: str | None = None, limit: int = 100, kind: str | None = None
    ) -> list[View]:
        """Newest first, optionally one status and one kind (CUSTOMER or RESTOCK) only."""
        sources: list[Iterable[View]] = []
        if kind in (None, "CUSTOMER"):
            sources.append(reversed(self.orders.values()))
        if kind in (None, "RESTOCK"):
            sources.append(reversed(self.restocks.values()))
        newest_first = heapq.merge(*sources, key=created, reverse=True)
        wanted = (v for v in newest_first if status is None or v.status == status)
        return list(itertools.islice(wanted, limit))

    def find_order(self, key: str) -> View | None:
        return self.orders.get(key) or self.restocks.get(key)

    def store_counts(self) -> dict[str, int] | None:
        """Orders and restocks the store holds, by kind (from the last metrics.tick)."""
        if self.tick is None:
            return None
        counts = self.tick.orders
        return {kind: sum((counts.get(kind) or {}).values()) for kind in ("customer", "restock")}

    @property
    def alert_count(self) -> int:
        """Open alerts of every kind: the one count the status line, the Alerts tab and
        its panel show."""
        return len(self.alerts)

    def open_alerts(self) -> list[Alert]:
        """Every open alert, oldest first."""
        return sorted(self.alerts.values(), key=lambda a: (a.raised_at, alert_key(a)))

    def low_stock_skus(self) -> list[str]:
        """The SKUs whose low-stock alert is open, in order."""
        return sorted(a.sku for a in self.alerts.values() if not expiry_alert(a))

    def low_stock(self, item: InventoryItem) -> bool:
        return item.available < item.min_level

    def offline_robots(self) -> list[str]:
        return [rid for rid, robot in self.robots.items() if robot.state == "offline"]


def _per_minute(analytics: Analytics | None) -> float:
    return float(analytics.customer.per_minute) if analytics is not None else 0.0

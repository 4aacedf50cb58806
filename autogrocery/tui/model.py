"""What the dashboard knows about the store: a snapshot plus the live events since.

Applying an event only updates dicts and marks a panel dirty; the app redraws dirty
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
from typing import Any

from autogrocery.domain import events as ev

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

    inventory: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    restocks: list[dict[str, Any]]
    robots: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    analytics: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Reports:
    """The reports panel's figures, as the store last gave them (`GET /api/ops/expiring`
    and `/api/ops/reports/*`)."""

    expiring: list[dict[str, Any]]
    reorder: dict[str, Any]
    usage: dict[str, Any]
    waste: dict[str, Any]
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


def order_key(view: dict[str, Any]) -> str:
    return str(view.get("order_id") or view.get("restock_id"))


def is_restock(view: dict[str, Any]) -> bool:
    return view.get("kind") == "RESTOCK" or "restock_id" in view


def created(view: dict[str, Any]) -> str:
    return str(view.get("created_at") or "")


def percentile(ordered: list[float], p: float) -> float:
    return ordered[round(p * (len(ordered) - 1))] if ordered else 0.0


def expiry_alert(alert: dict[str, Any]) -> bool:
    """An alert for a lot that expires soon; the others are low-stock alerts (by SKU)."""
    return alert.get("kind") == "expiring"


def alert_key(alert: dict[str, Any]) -> str:
    """An open alert's key: its lot for an expiry alert, its SKU for a low-stock one."""
    return str(alert.get("lot_id")) if expiry_alert(alert) else str(alert.get("sku"))


class StoreModel:
    """The dashboard's copy of the store. Two feeds fill the analytics side and are
    kept apart: `analytics` is the `GET /api/ops/analytics` summary (polled), `tick`
    the latest `metrics.tick` event (the store's order counts, robots alive, loop lag).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.orders: dict[str, dict[str, Any]] = {}  # customer orders, oldest first
        self.restocks: dict[str, dict[str, Any]] = {}  # restocks, oldest first
        self.inventory: dict[str, dict[str, Any]] = {}
        self.low: set[str] = set()  # SKUs below their min level: counted without a scan
        self.stock_history: dict[str, collections.deque[int]] = {}
        self.robots: dict[str, dict[str, Any]] = {}
        # Every open alert, by `alert_key`: what the status line, the Alerts tab and its
        # panel count (one number everywhere: `len(alerts)`).
        self.alerts: dict[str, dict[str, Any]] = {}
        self.reports: Reports | None = None
        self.reports_error: str | None = None  # why the last fetch failed, verbatim
        self._reports_asked: float | None = None  # clock() when the last fetch began
        self._reports_stale = True  # an event changed what they count since then
        self.analytics: dict[str, Any] | None = None
        self.tick: dict[str, Any] | None = None
        # The store's link to its head office (GET /api/ops/chain), polled; None: the
        # store is in no chain (or not known yet).
        self.chain: dict[str, Any] | None = None
        self.series = Series()
        self.events = 0
        self.dirty: set[str] = set(PANELS)
        self._finished: collections.deque[tuple[float, float]] = collections.deque()
        self._completed_since_sample = 0
        self._seen_completed: set[str] = set()

    # --- loading ---------------------------------------------------------------------

    def load(self, snapshot: Snapshot) -> None:
        """Replace what is known with a fresh snapshot (on connect and reconnect)."""
        self.inventory = {item["sku"]: dict(item) for item in snapshot.inventory}
        self.low = {sku for sku, item in self.inventory.items() if self.low_stock(item)}
        for sku, item in self.inventory.items():
            history = self.stock_history.setdefault(sku, collections.deque(maxlen=HISTORY))
            if not history:
                history.append(int(item["available"]))
        self.orders, self.restocks = {}, {}
        for view in sorted([*snapshot.orders, *snapshot.restocks], key=created):
            self._put_order(view)
        self._seen_completed = {
            key
            for known in (self.orders, self.restocks)
            for key, view in known.items()
            if view["status"] == "COMPLETED"
        }
        self.robots = {robot["robot_id"]: dict(robot) for robot in snapshot.robots}
        self.set_alerts(snapshot.alerts)
        self._reports_stale = True
        if snapshot.analytics is not None:
            self.analytics = snapshot.analytics
        self.dirty.update(PANELS)

    def merge_orders(self, views: Iterable[dict[str, Any]]) -> None:
        """Orders or restocks fetched for a filter (or a restock just submitted): known
        ones are updated, others added."""
        for view in sorted(views, key=created):
            self._put_order(view)
        self.dirty.add("orders")

    def set_robots(self, robots: list[dict[str, Any]]) -> None:
        self.robots = {robot["robot_id"]: dict(robot) for robot in robots}
        self.dirty.add("robots")

    def set_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """`GET /api/ops/alerts`: every open alert, low stock and expiring lots."""
        self.alerts = {alert_key(a): dict(a) for a in alerts}
        self.dirty.add("alerts")

    def set_analytics(self, summary: dict[str, Any]) -> None:
        """The store's all-time summary, `{customer: {...}, restock: {...}}`. The orders
        per minute chart's newest point takes the new rate at once, so the chart and the
        line above it never disagree for a second."""
        self.analytics = summary
        if self.series.per_minute:
            self.series.per_minute[-1] = _per_minute(summary)
        self.dirty.add("analytics")

    def set_tick(self, tick: dict[str, Any]) -> None:
        """A `metrics.tick`: `{orders: {kind: {status: n}}, robots_alive, loop_lag_ms}`."""
        self.tick = tick
        self.dirty.add("analytics")

    # --- live events -----------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> None:
        self.events += 1
        kind, data = event.get("type"), event.get("data") or {}
        if kind in (ev.ORDER_UPDATED, ev.RESTOCK_UPDATED):
            self._order_event(data)
        elif kind == ev.STOCK_CHANGED:
            self._stock_event(data)
        elif kind == ev.ROBOT_UPDATED and "robot_id" in data:
            self.robots[data["robot_id"]] = dict(data)
            self.dirty.add("robots")
        elif kind in (ev.ALERT_RAISED, ev.ALERT_CLEARED) and "sku" in data:
            self._alert_event(kind, data, event.get("at"))
        elif kind == ev.METRICS_TICK and isinstance(data.get("orders"), dict):
            self.set_tick(data)

    def _alert_event(self, kind: str, data: dict[str, Any], at: object) -> None:
        if expiry_alert(data):
            self._reports_stale = True  # the expiring lots' report
            raised = dict(data)
        else:
            self._stock_event(data)  # a low-stock alert carries the SKU's levels
            raised = {**data, "raised_at": at}
        key = alert_key(data)
        if kind == ev.ALERT_RAISED:
            self.alerts[key] = raised
        elif self.alerts.pop(key, None) is None:
            return
        self.dirty.add("alerts")

    def _order_event(self, view: dict[str, Any]) -> None:
        key = order_key(view)
        if view.get("status") == "COMPLETED" and key not in self._seen_completed:
            self._seen_completed.add(key)
            if view.get("kind") != "RESTOCK":
                self._completed_since_sample += 1
                if view.get("latency_ms") is not None:
                    self._finished.append((self.clock(), float(view["latency_ms"])))
        self._put_order(view)
        self.dirty.add("orders")

    def _put_order(self, view: dict[str, Any]) -> None:
        key = order_key(view)
        kept, most = (
            (self.restocks, MAX_RESTOCKS) if is_restock(view) else (self.orders, MAX_ORDERS)
        )
        known = kept.get(key)
        if known is not None:
            known.update(view)
            return
        kept[key] = dict(view)
        while len(kept) > most:
            oldest = next(iter(kept))
            del kept[oldest]
            self._seen_completed.discard(oldest)

    def _stock_event(self, data: dict[str, Any]) -> None:
        sku = data.get("sku")
        if not isinstance(sku, str):
            return
        item = self.inventory.get(sku)
        if item is None:
            if "aisle" not in data:
                return  # a price for a product the snapshot did not have yet
            item = self.inventory[sku] = {"price": "", "unit_cost": "", **data}
            self.stock_history[sku] = collections.deque([data["available"]], maxlen=HISTORY)
        else:
            item.update(data)
        if self.low_stock(item):
            self.low.add(sku)
        else:
            self.low.discard(sku)
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
            history.append(int(item.get("available", 0)))
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
    ) -> list[dict[str, Any]]:
        """Newest first, optionally one status and one kind (CUSTOMER or RESTOCK) only."""
        sources = [
            reversed(known.values())
            for known, known_kind in ((self.orders, "CUSTOMER"), (self.restocks, "RESTOCK"))
            if kind in (None, known_kind)
        ]
        newest_first = heapq.merge(*sources, key=created, reverse=True)
        wanted = (v for v in newest_first if status is None or v.get("status") == status)
        return list(itertools.islice(wanted, limit))

    def find_order(self, key: str) -> dict[str, Any] | None:
        return self.orders.get(key) or self.restocks.get(key)

    def store_counts(self) -> dict[str, int] | None:
        """Orders and restocks the store holds, by kind (from the last metrics.tick)."""
        if self.tick is None:
            return None
        counts = self.tick.get("orders") or {}
        return {
            kind: sum(int(n) for n in (counts.get(kind) or {}).values())
            for kind in ("customer", "restock")
        }

    @property
    def alert_count(self) -> int:
        """Open alerts of every kind: the one count the status line, the Alerts tab and
        its panel show."""
        return len(self.alerts)

    def open_alerts(self) -> list[dict[str, Any]]:
        """Every open alert, oldest first."""
        return sorted(self.alerts.values(), key=lambda a: (str(a.get("raised_at")), alert_key(a)))

    def low_stock_skus(self) -> list[str]:
        """The SKUs whose low-stock alert is open, in order."""
        return sorted(str(a["sku"]) for a in self.alerts.values() if not expiry_alert(a))

    def low_stock(self, item: dict[str, Any]) -> bool:
        return int(item.get("available", 0)) < int(item.get("min_level", 0))

    def offline_robots(self) -> list[str]:
        return [rid for rid, robot in self.robots.items() if robot.get("state") == "offline"]


def _per_minute(analytics: dict[str, Any] | None) -> float:
    customer = (analytics or {}).get("customer") or {}
    return float(customer.get("per_minute") or 0)

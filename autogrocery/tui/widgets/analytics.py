"""Orders per minute and latency percentiles over time, and the store's all-time
summary. Latency percentiles are over the last 10 s of completed orders (from live
events); orders per minute and the all-time line are the store's own analytics
(polled); the counts and the loop lag are the store's `metrics.tick` (each second)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from autogrocery.contract.events import MetricsTick
from autogrocery.contract.ops import Analytics
from autogrocery.tui import format as fmt
from autogrocery.tui.model import LATENCY_WINDOW, StoreModel
from autogrocery.tui.widgets.chart import Chart
from autogrocery.tui.widgets.text import show

CHARTS = (
    ("per_minute", "orders per minute"),
    ("completed_per_second", "orders completed per second"),
    ("p50", f"latency p50 (last {LATENCY_WINDOW:.0f} s)"),
    ("p95", f"latency p95 (last {LATENCY_WINDOW:.0f} s)"),
    ("p99", f"latency p99 (last {LATENCY_WINDOW:.0f} s)"),
)
LATENCIES = {"p50", "p95", "p99"}


class AnalyticsPanel(Vertical):
    def __init__(self, model: StoreModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    def compose(self) -> ComposeResult:
        yield Static("", id="analytics-summary")
        for key, title in CHARTS:
            yield Chart(caption=captioner(key, title), id=f"chart-{key}", classes="chart")

    def on_resize(self) -> None:
        """Five charts in what the terminal has: lower charts, then no gaps, if short."""
        room = self.size.height - 4  # the summary and its margin
        each = max(2, room // len(CHARTS))
        gap = 1 if each >= 5 else 0
        for key, _ in CHARTS:
            chart = self.query_one(f"#chart-{key}", Chart)
            chart.styles.margin = (gap, 0, 0, 0)
            chart.styles.height = max(2, min(4, each - gap))

    def refresh_from(self, model: StoreModel) -> None:
        text = summary(model.analytics)
        if (store := ticked(model.tick)) is not None:
            text += "\n" + store
        show(self.query_one("#analytics-summary", Static), text)
        for key, _ in CHARTS:
            self.query_one(f"#chart-{key}", Chart).data = getattr(model.series, key)


def captioner(key: str, title: str) -> Callable[[Sequence[float]], str]:
    """The line above a chart, about what it draws: the last value, the peak, the span."""
    timing = key in LATENCIES

    def caption(shown: Sequence[float]) -> str:
        last = shown[-1] if shown else 0.0
        peak = max(shown, default=0.0)
        value, top = (
            (fmt.latency(last), fmt.latency(peak)) if timing else (f"{last:.0f}", f"{peak:.0f}")
        )
        return f"{title}: [b]{value}[/b]   (peak {top}, last {len(shown)} s, bars from 0)"

    return caption


def summary(analytics: Analytics | None) -> str:
    """The store's all-time figures, a line (of 76 columns at most) per kind."""
    if analytics is None:
        return "waiting for the store's analytics…"
    parts = []
    for s, label in ((analytics.customer, "orders"), (analytics.restock, "restocks")):
        lat = s.latency_ms
        parts.append(
            f"[b]{label}[/b]: {s.completed} completed, {s.failed} failed, "
            f"{s.per_minute}/min · p50 {fmt.short(lat.p50)} "
            f"p99 {fmt.short(lat.p99)} max {fmt.short(lat.max)}"
        )
    return "\n".join(parts)


def ticked(tick: MetricsTick | None) -> str | None:
    """The store right now (its last metrics.tick): orders in flight, loop lag."""
    if tick is None:
        return None
    customer = tick.orders.get("customer") or {}
    in_flight = sum(customer.get(s, 0) for s in ("PREVIEWED", "PROCESSING"))
    restocking = (tick.orders.get("restock") or {}).get("PROCESSING", 0)
    lag = tick.loop_lag_ms
    return (
        f"[b]now[/b]: {in_flight} orders, {restocking} restocks in flight · "
        f"store loop lag {fmt.short(lag)}"
    )

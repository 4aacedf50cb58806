"""Orders per minute and latency percentiles over time, as sparklines, and the store's
all-time summary. Latency percentiles are over the last 10 s of completed orders (from
live events); orders per minute is the store's own count (polled)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline, Static

from autogrocery.tui import format as fmt
from autogrocery.tui.model import HISTORY, LATENCY_WINDOW, StoreModel
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
        for key, _ in CHARTS:
            yield Label("", id=f"chart-{key}-label", classes="chart-label")
            yield Sparkline([], id=f"chart-{key}", classes="chart")

    def refresh_from(self, model: StoreModel) -> None:
        show(self.query_one("#analytics-summary", Static), summary(model.analytics))
        for key, title in CHARTS:
            values: Sequence[float] = getattr(model.series, key)
            last = values[-1] if values else 0.0
            timing = key in LATENCIES
            shown = fmt.latency(last) if timing else f"{last:.0f}"
            peak = max(values, default=0.0)
            top = fmt.latency(peak) if timing else f"{peak:.0f}"
            show(
                self.query_one(f"#chart-{key}-label", Label),
                f"{title}: [b]{shown}[/b]   (peak {top}, last {min(len(values), HISTORY)} s)",
            )
            # One column per second, newest on the right; empty seconds before the first.
            padding = [0.0] * (HISTORY - len(values))
            self.query_one(f"#chart-{key}", Sparkline).data = [*padding, *values]


def summary(analytics: dict[str, Any] | None) -> str:
    if not analytics:
        return "waiting for the store's analytics…"
    parts = []
    for kind, label in (("customer", "orders"), ("restock", "restocks")):
        s = analytics.get(kind) or {}
        lat = s.get("latency_ms") or {}
        parts.append(
            f"[b]{label}[/b]: {s.get('completed', 0)} completed · {s.get('failed', 0)} failed · "
            f"{s.get('per_minute', 0)}/min · all-time p50 {fmt.latency(lat.get('p50'))} "
            f"p95 {fmt.latency(lat.get('p95'))} p99 {fmt.latency(lat.get('p99'))} "
            f"max {fmt.latency(lat.get('max'))}"
        )
    return "\n".join(parts)

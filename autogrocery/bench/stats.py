"""Latency percentiles and the bench report."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

from autogrocery.bench.pool import PoolSummary

Percentiles = dict[str, float | None]  # p50, p95, p99, max


class ErrorCount(TypedDict):
    endpoint: str
    status: str
    count: int


class Refused(TypedDict):
    count: int
    why: dict[str, int]
    short_skus: int
    most_short: dict[str, int]


class Measured(TypedDict):
    """What the recorder counted and timed."""

    completed_orders: int
    failed_orders: int
    previews_ok: int
    confirms_ok: int
    previews_cancelled: int
    elapsed_s: float
    orders_per_s: float
    previews_per_s: float
    preview_ms: Percentiles
    confirm_ms: Percentiles
    confirm_to_completed_ms: Percentiles
    errors: list[ErrorCount]
    previews_refused: Refused


class RunFacts(TypedDict):
    """What the run was, and what the store said of itself."""

    mode: str
    concurrency: int | None
    rate: float | None
    items: int
    aisles: int
    devices: int
    basket_pool: PoolSummary
    transport: str
    target: dict[str, str]  # the store's version and transports
    reconnects: int
    store_peak_rss_mb: float | None
    store_cpu_ms_per_order: float | None
    mean_batch: dict[str, float]
    invariants: list[str] | str  # the problems found, or "ok"


class Report(Measured, RunFacts):
    """The bench report, printed (`render`)."""


class TimedReport(Report):
    """The bench report as written as JSON."""

    wall_s: float  # the whole run's, setup included


def percentiles(samples: list[float]) -> Percentiles:
    """p50/p95/p99/max in milliseconds (nearest-rank), None when there are no samples."""
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)] * 1000.0, 2)

    return {
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1] * 1000.0, 2),
    }


@dataclass
class Recorder:
    preview: list[float] = field(default_factory=list)
    confirm: list[float] = field(default_factory=list)
    completion: list[float] = field(default_factory=list)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    previews: int = 0  # in the measured window, as the counts below
    confirms: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0  # previews the bench gave back after a failed confirm
    total_mismatches: int = 0
    picked: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # previews refused, by why
    short: Counter[str] = field(default_factory=Counter)  # SKUs a refusal named short

    def error(self, endpoint: str, status: int | str) -> None:
        self.errors[(endpoint, str(status))] += 1

    def refusal(self, why: str, short_skus: list[str]) -> None:
        self.refused[why] += 1
        self.short.update(short_skus)

    def report(self, elapsed: float, extra: RunFacts) -> Report:
        def rate(count: int) -> float:
            return round(count / elapsed, 1) if elapsed else 0.0

        return {
            "completed_orders": self.completed,
            "failed_orders": self.failed,
            "previews_ok": self.previews,
            "confirms_ok": self.confirms,
            "previews_cancelled": self.cancelled,
            "elapsed_s": round(elapsed, 3),
            "orders_per_s": rate(self.completed),
            "previews_per_s": rate(self.previews),
            "preview_ms": percentiles(self.preview),
            "confirm_ms": percentiles(self.confirm),
            "confirm_to_completed_ms": percentiles(self.completion),
            "errors": [
                {"endpoint": endpoint, "status": status, "count": count}
                for (endpoint, status), count in sorted(self.errors.items())
            ],
            "previews_refused": {
                "count": sum(self.refused.values()),
                "why": dict(self.refused.most_common()),
                "short_skus": len(self.short),
                "most_short": dict(self.short.most_common(5)),
            },
            **extra,
        }


def render(report: Report) -> str:
    def row(name: str, values: dict[str, float | None]) -> str:
        cells = "  ".join(f"{k} {v if v is not None else '-':>8}" for k, v in values.items())
        return f"  {name:<24}{cells}"

    lines = [
        f"completed orders/s   {report['orders_per_s']:>10}   "
        f"({report['completed_orders']} completed, {report['failed_orders']} failed, "
        f"{report['elapsed_s']} s)",
        f"succeeded            {report['previews_ok']} previews, "
        f"{report['confirms_ok']} confirms ({report['previews_per_s']} previews/s)",
        "latency (ms)",
        row("preview request", report["preview_ms"]),
        row("confirm request", report["confirm_ms"]),
        row("confirm -> completed", report["confirm_to_completed_ms"]),
    ]
    if report["errors"]:
        lines.append("errors               endpoint      status        count")
        lines.extend(
            f"                     {e['endpoint']:<13} {e['status']:<13} {e['count']:>5}"
            for e in report["errors"]
        )
    else:
        lines.append("errors               none")
    refused = report.get("previews_refused") or {}
    if refused.get("count"):
        why = ", ".join(f"{count} {reason}" for reason, count in refused["why"].items())
        lines.append(f"previews refused     {refused['count']}: {why}")
        if refused["short_skus"]:
            lines.append(
                f"                     {refused['short_skus']} SKUs named short, most: "
                + ", ".join(f"{sku} x{n}" for sku, n in refused["most_short"].items())
            )
    if report.get("basket_pool"):
        pool = report["basket_pool"]
        lines.append(
            f"baskets from         {pool['skus']} of {pool['of_skus']} SKUs, each with "
            f"{pool['available_at_least']}+ available at the start"
            + ("" if pool.get("covered", True) else " (too few for the run)")
        )
    if report.get("previews_cancelled"):
        lines.append(
            f"cancelled            {report['previews_cancelled']} previews whose confirm failed"
        )
    if report.get("target"):
        target = report["target"]
        lines.append(
            f"store                {target.get('version', '?')}, robots over "
            f"{target.get('robots', '?')}, metrics over {target.get('metrics', '?')}"
        )
    if report.get("store_cpu_ms_per_order") is not None:
        lines.append(f"store CPU per order {report['store_cpu_ms_per_order']:>8} ms (all threads)")
    if report.get("mean_batch"):
        batches = "  ".join(f"{actor} {size}" for actor, size in report["mean_batch"].items())
        lines.append(f"mean batch           {batches}")
    if report.get("store_peak_rss_mb") is not None:
        lines.append(f"store peak RSS       {report['store_peak_rss_mb']} MB")
    lines.append(f"invariants           {report['invariants']}")
    return "\n".join(lines)

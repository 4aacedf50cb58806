"""Latency percentiles and the bench report."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def percentiles(samples: list[float]) -> dict[str, float | None]:
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
    errors: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    failed: int = 0
    total_mismatches: int = 0
    picked: Counter[str] = field(default_factory=Counter)

    def report(self, elapsed: float, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "completed_orders": self.completed,
            "failed_orders": self.failed,
            "elapsed_s": round(elapsed, 3),
            "orders_per_s": round(self.completed / elapsed, 1) if elapsed else 0.0,
            "preview_ms": percentiles(self.preview),
            "confirm_ms": percentiles(self.confirm),
            "confirm_to_completed_ms": percentiles(self.completion),
            "errors": dict(sorted(self.errors.items())),
            **extra,
        }


def render(report: dict[str, Any]) -> str:
    def row(name: str, values: dict[str, float | None]) -> str:
        cells = "  ".join(f"{k} {v if v is not None else '-':>8}" for k, v in values.items())
        return f"  {name:<24}{cells}"

    lines = [
        f"completed orders/s   {report['orders_per_s']:>10}   "
        f"({report['completed_orders']} completed, {report['failed_orders']} failed, "
        f"{report['elapsed_s']} s)",
        "latency (ms)",
        row("preview request", report["preview_ms"]),
        row("confirm request", report["confirm_ms"]),
        row("confirm -> completed", report["confirm_to_completed_ms"]),
        f"errors               {report['errors'] or 'none'}",
    ]
    if report.get("store_cpu_ms_per_order") is not None:
        lines.append(f"store CPU per order {report['store_cpu_ms_per_order']:>8} ms (all threads)")
    if report.get("mean_batch"):
        batches = "  ".join(f"{actor} {size}" for actor, size in report["mean_batch"].items())
        lines.append(f"mean batch           {batches}")
    if report.get("store_peak_rss_mb") is not None:
        lines.append(f"store peak RSS       {report['store_peak_rss_mb']} MB")
    lines.append(f"invariants           {report['invariants']}")
    return "\n".join(lines)

"""Latency summaries from histograms, not from every latency.

A latency falls in the bucket of its value rounded to three significant digits (900
buckets a decade; a bucket's value is within 0.5% of every latency in it), the same
rounding as SQLite's `printf('%.2e')` that keeps the store's `latency_buckets`
(autogrocery/store/tallies.py). A percentile is the nearest-rank latency's bucket
value, never above the exact maximum, which is kept beside the buckets.

`LatencyTally` is that histogram in memory, for a remote analytics process, with the
last minute's finish times (for `per_minute`); its size is bounded by the buckets in
use and a minute of metrics, whatever the history. It is saved beside the CSV (the
`.tally` file) with the CSV's size it covers, so that a restart reads only the lines
written after it.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from autogrocery.domain.messages.analytics import KindSummary

log = logging.getLogger(__name__)

MINUTE = 60.0
TALLY_VERSION = 1


def bucket_of(latency_ms: float) -> float:
    return float(f"{latency_ms:.2e}")


def summarize(
    completed: Iterable[tuple[float, int]],
    failed: int,
    cancelled: int,
    per_minute: int,
    peak: float | None,
) -> KindSummary:
    """The analytics summary of one kind: `completed` is (bucket, count) in bucket
    order; `peak` the exact largest completed latency."""
    buckets = [(value, n) for value, n in completed if n > 0]
    total = sum(n for _, n in buckets)

    def pct(p: float) -> float | None:
        if not total or peak is None:
            return None
        rank = round(p * (total - 1))  # 0-based nearest rank
        below = 0
        for value, n in buckets:
            below += n
            if below > rank:
                return min(value, peak)
        return peak

    return {
        "completed": total,
        "failed": failed,
        "cancelled": cancelled,
        "latency_ms": {
            "p50": pct(0.5),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": peak if total else None,
        },
        "per_minute": per_minute,
    }


class LatencyTally:
    """Counts by (kind, status, bucket), the largest completed latency of each kind,
    and the finish times of the last minute."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, float], int] = {}
        self.peak: dict[str, float] = {}
        self.recent: deque[tuple[float, str]] = deque()  # (finished_at, kind)

    def add(
        self, kind: str, status: str, latency_ms: float, finished_at: float, now: float
    ) -> None:
        key = (kind, status, bucket_of(latency_ms))
        self.counts[key] = self.counts.get(key, 0) + 1
        if status == "COMPLETED" and latency_ms > self.peak.get(kind, float("-inf")):
            self.peak[kind] = latency_ms
        if finished_at >= now - MINUTE:
            self.recent.append((finished_at, kind))
        self._forget_before(now - MINUTE)

    def _forget_before(self, since: float) -> None:
        while self.recent and self.recent[0][0] < since:
            self.recent.popleft()

    def summary(self, kind: str, now: float) -> KindSummary:
        self._forget_before(now - MINUTE)
        by_status: dict[str, int] = {}
        completed: list[tuple[float, int]] = []
        for (k, status, value), n in self.counts.items():
            if k != kind:
                continue
            by_status[status] = by_status.get(status, 0) + n
            if status == "COMPLETED":
                completed.append((value, n))
        completed.sort()
        since = now - MINUTE
        return summarize(
            completed,
            by_status.get("FAILED", 0),
            by_status.get("CANCELLED", 0),
            sum(1 for finished, k in self.recent if k == kind and finished >= since),
            self.peak.get(kind),
        )

    def save(self, path: Path, csv_size: int, last_seq: int) -> None:
        """Write the tally atomically: it covers the CSV's first `csv_size` bytes."""
        body = {
            "version": TALLY_VERSION,
            "csv_size": csv_size,
            "last_seq": last_seq,
            "counts": [[k, s, b, n] for (k, s, b), n in self.counts.items()],
            "peak": self.peak,
            "recent": list(self.recent),
        }
        temporary = path.with_name(path.name + ".new")
        temporary.write_text(json.dumps(body), encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> tuple[LatencyTally, int, int] | None:
        """The tally saved at `path`, the CSV size and last seq it covers; None if
        there is none or it cannot be read (the CSV is then read whole)."""
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            if body["version"] != TALLY_VERSION:
                return None
            tally = cls()
            tally.counts = {(k, s, float(b)): int(n) for k, s, b, n in body["counts"]}
            tally.peak = {str(k): float(v) for k, v in body["peak"].items()}
            tally.recent = deque((float(f), str(k)) for f, k in body["recent"])
            return tally, int(body["csv_size"]), int(body["last_seq"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("analytics: %s unreadable (%s); reading the whole CSV", path, exc)
            return None

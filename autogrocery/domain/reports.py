"""Stock reports from the ledger: usage by day, waste and its value, reorder suggestions.

Pure functions over movements (sku, delta, when, unit cost of its lot) and levels; days
are the store's days (its time zone); money is cents.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from autogrocery.domain.records import StockLevel


@dataclass(frozen=True, slots=True)
class Moved:
    """Movements of one SKU from lots of one cost, as the reports need them (the store
    sums them per quarter hour)."""

    sku: str
    delta: int
    at: float  # seconds since the epoch (the start of their quarter hour)
    unit_cost: int  # cents, of the lot it touched


@dataclass(frozen=True, slots=True)
class Waste:
    sku: str
    quantity: int
    value: int  # cents, at the cost of the lots it came from


@dataclass(frozen=True, slots=True)
class Suggestion:
    sku: str
    available: int
    min_level: int
    daily_usage: float
    days_of_cover: float | None  # None: no usage, so no end in sight
    quantity: int  # to order now


def local_day(at: float, zone: tzinfo) -> date:
    return datetime.fromtimestamp(at, zone).date()


def day_start(day: date, zone: tzinfo) -> float:
    """The first second of `day` in the store's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def day_runs(first: date, days: int, zone: tzinfo) -> list[tuple[float, float, float]]:
    """The store's days from `first`, `days` of them, as runs of days of one length
    (start, end, length in seconds): a time zone's days are 24 hours but for the days
    its clocks change, so a year is one run, or five. Within a run, a movement's day
    starts at start + whole lengths: the store sums per day in SQL with it."""
    starts = [day_start(first + timedelta(days=n), zone) for n in range(days + 1)]
    runs: list[tuple[float, float, float]] = []
    for begin, end in itertools.pairwise(starts):
        if runs and runs[-1][1] == begin and runs[-1][2] == end - begin:
            runs[-1] = (runs[-1][0], end, end - begin)
        else:
            runs.append((begin, end, end - begin))
    return runs


def usage_by_day(moves: Iterable[Moved], zone: tzinfo) -> dict[str, dict[date, int]]:
    """Units taken (OUT movements) per SKU per day."""
    usage: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for move in moves:
        usage[move.sku][local_day(move.at, zone)] += -move.delta
    return {sku: dict(days) for sku, days in usage.items()}


def breakdown(per_day: dict[date, int], by: str) -> dict[str, list[dict[str, object]]]:
    """A SKU's usage `by` day (`days`, only the days it was used) or by month (`months`,
    `YYYY-MM`: a year is 12 entries, not 366)."""
    if by == "month":
        months: dict[str, int] = defaultdict(int)
        for day, quantity in per_day.items():
            months[day.isoformat()[:7]] += quantity
        return {"months": [{"month": m, "quantity": q} for m, q in sorted(months.items())]}
    return {
        "days": [
            {"date": day.isoformat(), "quantity": quantity}
            for day, quantity in sorted(per_day.items())
        ]
    }


def waste_by_sku(moves: Iterable[Moved]) -> list[Waste]:
    """Units written off (WASTE movements) per SKU, with their value at cost."""
    quantity: dict[str, int] = defaultdict(int)
    value: dict[str, int] = defaultdict(int)
    for move in moves:
        quantity[move.sku] += -move.delta
        value[move.sku] += -move.delta * move.unit_cost
    return [Waste(sku, quantity[sku], value[sku]) for sku in sorted(quantity)]


def reorder(
    levels: Iterable[StockLevel], used: dict[str, int], days: float, lead_time: int
) -> list[Suggestion]:
    """What to order now: each SKU whose available stock will not last the delivery's
    lead time at its average daily usage over `days` days (the period, or the store's
    age if it is younger), or is below its min level. The quantity brings it to its min
    level plus the usage of two lead times."""
    suggestions = []
    for level in levels:
        daily = used.get(level.sku, 0) / days
        cover = level.available / daily if daily else None
        short = level.available < level.min_level or (cover is not None and cover < lead_time)
        if not short:
            continue
        target = level.min_level + math.ceil(daily * 2 * lead_time)
        quantity = max(0, target - level.available)
        if quantity:
            suggestions.append(
                Suggestion(
                    level.sku,
                    level.available,
                    level.min_level,
                    round(daily, 2),
                    round(cover, 1) if cover is not None else None,
                    quantity,
                )
            )
    # Soonest out first; a SKU below its min level but with no usage has no end in sight.
    return sorted(
        suggestions,
        key=lambda s: (s.days_of_cover is None, s.days_of_cover or 0.0, s.sku),
    )

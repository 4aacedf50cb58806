"""The reports panel's figures, fetched from the store in one go: lots that expire soon,
what to reorder, usage of the last week and waste over a period. No textual here.

Periods are the store's days (its time zone, which the dashboard does not know): the
usage report says which day is today there, and the waste period ends on that day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, timedelta

import msgspec

from autogrocery.contract.ops import SkuUsage
from autogrocery.tui.client import ApiClient
from autogrocery.tui.model import Reports

EXPIRING_WITHIN = 3  # days ahead, as the issue's `GET /api/ops/expiring?within=3d`
USAGE_DAYS = 7
PERIODS = (7, 30)  # the waste periods to choose from, in days


async def load_reports(
    client: ApiClient, waste_days: int = PERIODS[0], now: Callable[[], float] = time.time
) -> Reports:
    expiring, reorder, usage = await asyncio.gather(
        client.expiring(EXPIRING_WITHIN), client.reorder(), client.usage(USAGE_DAYS)
    )
    today = date.fromisoformat(usage.to)
    first = today - timedelta(days=waste_days - 1)
    waste = await client.waste(first.isoformat(), today.isoformat())
    return Reports(expiring, reorder, usage, waste, EXPIRING_WITHIN, now())


def daily(entry: SkuUsage, first: str, last: str) -> list[int]:
    """A usage entry's quantities for each day from `first` to `last`, none left out
    (the report lists only the days with usage)."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    days = entry.days if not isinstance(entry.days, msgspec.UnsetType) else []
    taken = {day.date: day.quantity for day in days}
    return [
        taken.get((start + timedelta(days=n)).isoformat(), 0) for n in range((end - start).days + 1)
    ]

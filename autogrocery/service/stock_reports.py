"""Stock reports for operators: expiring lots, usage, waste and what to reorder.

Read from the ledger (the store's reader) and from the stock actor's levels;
the arithmetic is in `domain/reports.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, timedelta
from typing import Protocol, TypeVar

from autogrocery.actors.supervisor import CoreActor
from autogrocery.config import StockConfig
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.messages.stock import ExpiringLots, LevelsOf, ShortLevels, StockLevels
from autogrocery.domain.money import format_money
from autogrocery.domain.records import LotLevel, StockLevel
from autogrocery.domain.reports import (
    Moved,
    Waste,
    breakdown,
    day_runs,
    day_start,
    local_day,
    reorder,
    usage_by_day,
    waste_by_sku,
)
from autogrocery.runtime.context import Context
from autogrocery.service.answers import (
    MarkdownEffect,
    ReorderReport,
    SkuUsage,
    UsageReport,
    WasteReport,
)
from autogrocery.store.reads import Reader

A = TypeVar("A")


class Ask(Protocol):
    """A message to a core actor, by name; its answer, of the type it declares."""

    def __call__(self, actor: CoreActor, message: Answered[A], /) -> Awaitable[A]: ...


Page = tuple[int, str]  # how many SKUs, after which SKU ("" for the first page)
DAY = 86400.0  # seconds
LEAST_SPAN = 1 / 1440  # days: a store younger than a minute counts as a minute old


class StockReports:
    """Built from what it reads: the core actors (`ask`), the ledger (`reader`), the
    store's clock and time zone (`ctx`) and the reorder settings (`settings`)."""

    def __init__(self, ask: Ask, reader: Reader, ctx: Context, settings: StockConfig) -> None:
        self.ask = ask
        self.reader = reader
        self.ctx = ctx
        self.settings = settings

    async def levels(self) -> list[StockLevel]:
        levels = await self.ask("stock", StockLevels())
        return levels

    async def expiring(
        self, days: int, limit: int | None = None, after: tuple[str, str, str] | None = None
    ) -> list[tuple[LotLevel, StockLevel]]:
        """Lots with stock whose best-before date is within `days` days, or past, each
        with its product's level: the earliest first, up to `limit` of them after the lot
        keyed `after` (see `ExpiringLots`). Only their own products' levels are read."""
        if not 0 <= days <= 3650:
            raise ValidationError(
                "within must be 0 to 3650 days", [{"field": "within", "message": "out of range"}]
            )
        lots = await self.ask("stock", ExpiringLots(days, limit, after))
        skus = tuple(dict.fromkeys(lot.sku for lot in lots))
        levels = {level.sku: level for level in await self.ask("stock", LevelsOf(skus))}
        return [(lot, levels[lot.sku]) for lot in lots if lot.sku in levels]

    async def usage(self, days: int, page: Page | None = None, by: str = "day") -> UsageReport:
        """Units taken per SKU over the last `days` days (today included), per day or
        per month (`by`); every SKU that was used, or a `page` of them in SKU order."""
        if not 1 <= days <= 366:
            raise ValidationError(
                "days must be 1 to 366", [{"field": "days", "message": "out of range"}]
            )
        zone, today = self.ctx.zone, self.ctx.today()
        first = today - timedelta(days=days - 1)
        since, until = day_start(first, zone), day_start(today + timedelta(days=1), zone)
        moved, following = await self._moved("OUT", since, until, page, costed=False)
        usage = usage_by_day(moved, zone)
        return {
            "from": first.isoformat(),
            "to": today.isoformat(),
            "span_days": await self.span(days),
            "skus": [_sku_usage(sku, per_day, by) for sku, per_day in sorted(usage.items())],
            "next_cursor": following,
        }

    async def _moved(
        self, kind: str, since: float, until: float, page: Page | None, *, costed: bool
    ) -> tuple[list[Moved], str | None]:
        """Movements of `kind` in the period: every SKU's, or a page of SKUs' (and the
        last SKU shown when there are more)."""
        if page is None:
            return await self.reader.moved(kind, since, until, costed=costed), None
        limit, after = page
        zone = self.ctx.zone
        first, last = local_day(since, zone), local_day(until, zone)
        runs = day_runs(first, (last - first).days, zone)
        moved = await self.reader.moved_page(kind, runs, after, limit + 1, costed=costed)
        skus = sorted({move.sku for move in moved})
        if len(skus) <= limit:
            return moved, None
        shown = set(skus[:limit])
        return [move for move in moved if move.sku in shown], skus[limit - 1]

    async def span(self, days: int) -> float:
        """The days that usage over the last `days` days is spread over: `days`, or the
        store's age when it is younger (a store two minutes old has not seen a week)."""
        opened = await self.reader.opened()
        if opened is None:
            return float(days)
        age = (self.ctx.clock() - opened) / DAY
        return min(float(days), max(age, LEAST_SPAN))

    async def waste(self, first: date, last: date, page: Page | None = None) -> WasteReport:
        """What was written off from `first` to `last` (the store's days, inclusive): by
        every SKU, with the total value; or by a `page` of SKUs, without (the total of
        a period is every SKU's)."""
        if last < first or (last - first).days > 366:
            raise ValidationError(
                "from must not be after to, and at most a year before it",
                [{"field": "from", "message": "bad period"}],
            )
        zone = self.ctx.zone
        since, until = day_start(first, zone), day_start(last + timedelta(days=1), zone)
        moved, following = await self._moved("WASTE", since, until, page, costed=True)
        wasted = waste_by_sku(moved)
        total = None if page else format_money(sum(w.value for w in wasted))
        effect = None if page else await self._markdown_effect(since, until, wasted)
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "total_value": total,
            "next_cursor": following,
            "skus": [
                {"sku": w.sku, "quantity": w.quantity, "value": format_money(w.value)}
                for w in wasted
            ],
            "markdowns": effect,
        }

    async def _markdown_effect(
        self, since: float, until: float, wasted: list[Waste]
    ) -> MarkdownEffect:
        """Waste from lots that had a markdown, and from the rest (all the period's waste
        but those), beside what sold at a markdown price."""
        marked, marked_value, sold, sold_value = await self.reader.markdown_effect(since, until)
        units, value = sum(w.quantity for w in wasted), sum(w.value for w in wasted)
        return {
            "marked_down": {
                "wasted": marked,
                "wasted_value": format_money(marked_value),
                "sold": sold,
                "sold_value": format_money(sold_value),
            },
            "not_marked_down": {
                "wasted": units - marked,
                "wasted_value": format_money(value - marked_value),
            },
        }

    async def reorder(self) -> ReorderReport:
        """What to order now, from the last `stock.usage_days` days of usage."""
        days, lead = self.settings.usage_days, self.settings.lead_time_days
        today = self.ctx.today()
        since = day_start(today - timedelta(days=days - 1), self.ctx.zone)
        until = day_start(today + timedelta(days=1), self.ctx.zone)
        used = await self.reader.used("OUT", since, until)
        span = await self.span(days)
        # A little more than the lead time uses, so that no SKU on the boundary is
        # left out by rounding; `reorder` decides each one exactly.
        needed = {sku: lead * units / span * (1 + 1e-9) + 1e-9 for sku, units in used.items()}
        levels = await self.ask("stock", ShortLevels(needed))
        return {
            "usage_days": days,
            "span_days": span,
            "lead_time_days": lead,
            "suggestions": [
                {
                    "sku": s.sku,
                    "available": s.available,
                    "min_level": s.min_level,
                    "daily_usage": s.daily_usage,
                    "days_of_cover": s.days_of_cover,
                    "quantity": s.quantity,
                }
                for s in reorder(levels, used, span, lead)
            ],
        }


def _sku_usage(sku: str, per_day: dict[date, int], by: str) -> SkuUsage:
    """A SKU's total, then its `days` or its `months` (`breakdown` gives one of them)."""
    row: SkuUsage = {"sku": sku, "total": sum(per_day.values())}
    parts = breakdown(per_day, by)
    if "days" in parts:
        row["days"] = parts["days"]
    if "months" in parts:
        row["months"] = parts["months"]
    return row

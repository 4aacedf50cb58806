"""Stock reports for operators: expiring lots, usage, waste and what to reorder.

Read from the ledger (the store's reader) and from the stock actor's levels;
the arithmetic is in `domain/reports.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, timedelta
from typing import Any, Protocol, TypeVar

from autogrocery.actors.supervisor import CoreActor
from autogrocery.config import StockConfig
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.messages.stock import ExpiringLots, StockLevels
from autogrocery.domain.money import format_money
from autogrocery.domain.records import StockLevel
from autogrocery.domain.reports import day_start, reorder, usage_by_day, waste_by_sku
from autogrocery.domain.views import lot_view
from autogrocery.runtime.context import Context
from autogrocery.store.reads import Reader

A = TypeVar("A")


class Ask(Protocol):
    """A message to a core actor, by name; its answer, of the type it declares."""

    def __call__(self, actor: CoreActor, message: Answered[A], /) -> Awaitable[A]: ...


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

    async def expiring(self, days: int) -> list[dict[str, Any]]:
        """Lots with stock whose best-before date is within `days` days, or past."""
        if not 0 <= days <= 3650:
            raise ValidationError(
                "within must be 0 to 3650 days", [{"field": "within", "message": "out of range"}]
            )
        lots = await self.ask("stock", ExpiringLots(days))
        names = {level.sku: level for level in await self.levels()}
        today = self.ctx.today()
        return [
            lot_view(lot, names[lot.sku].name, names[lot.sku].aisle, today)
            for lot in lots
            if lot.sku in names
        ]

    async def usage(self, days: int) -> dict[str, Any]:
        """Units taken per SKU per day, over the last `days` days (today included)."""
        if not 1 <= days <= 366:
            raise ValidationError(
                "days must be 1 to 366", [{"field": "days", "message": "out of range"}]
            )
        zone, today = self.ctx.zone, self.ctx.today()
        first = today - timedelta(days=days - 1)
        since, until = day_start(first, zone), day_start(today + timedelta(days=1), zone)
        usage = usage_by_day(await self.reader.moved("OUT", since, until, costed=False), zone)
        return {
            "from": first.isoformat(),
            "to": today.isoformat(),
            "span_days": await self.span(days),
            "skus": [
                {
                    "sku": sku,
                    "total": sum(per_day.values()),
                    "days": [
                        {"date": day.isoformat(), "quantity": quantity}
                        for day, quantity in sorted(per_day.items())
                    ],
                }
                for sku, per_day in sorted(usage.items())
            ],
        }

    async def span(self, days: int) -> float:
        """The days that usage over the last `days` days is spread over: `days`, or the
        store's age when it is younger (a store two minutes old has not seen a week)."""
        opened = await self.reader.opened()
        if opened is None:
            return float(days)
        age = (self.ctx.clock() - opened) / DAY
        return min(float(days), max(age, LEAST_SPAN))

    async def waste(self, first: date, last: date) -> dict[str, Any]:
        """What was written off from `first` to `last` (the store's days, inclusive)."""
        if last < first or (last - first).days > 366:
            raise ValidationError(
                "from must not be after to, and at most a year before it",
                [{"field": "from", "message": "bad period"}],
            )
        zone = self.ctx.zone
        since, until = day_start(first, zone), day_start(last + timedelta(days=1), zone)
        wasted = waste_by_sku(await self.reader.moved("WASTE", since, until))
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "total_value": format_money(sum(w.value for w in wasted)),
            "skus": [
                {"sku": w.sku, "quantity": w.quantity, "value": format_money(w.value)}
                for w in wasted
            ],
        }

    async def reorder(self) -> dict[str, Any]:
        """What to order now, from the last `stock.usage_days` days of usage."""
        days, lead = self.settings.usage_days, self.settings.lead_time_days
        usage = await self.usage(days)
        used = {entry["sku"]: entry["total"] for entry in usage["skus"]}
        span: float = usage["span_days"]
        levels = await self.levels()
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

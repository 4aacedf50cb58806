"""Stock reports for operators: expiring lots, usage, waste and what to reorder.

Read from the ledger (through the System's reader) and from the stock actor's levels;
the arithmetic is in `domain/reports.py`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages import ExpiringLots
from autogrocery.domain.money import format_money
from autogrocery.domain.records import LotLevel
from autogrocery.domain.reports import day_start, reorder, usage_by_day, waste_by_sku
from autogrocery.domain.views import lot_view

if TYPE_CHECKING:
    from autogrocery.actors.system import System

DAY = 86400.0  # seconds
LEAST_SPAN = 1 / 1440  # days: a store younger than a minute counts as a minute old


class StockReports:
    def __init__(self, system: System) -> None:
        self.system = system

    async def expiring(self, days: int) -> list[dict[str, Any]]:
        """Lots with stock whose best-before date is within `days` days, or past."""
        if not 0 <= days <= 3650:
            raise ValidationError(
                "within must be 0 to 3650 days", [{"field": "within", "message": "out of range"}]
            )
        lots: list[LotLevel] = await self.system.ask("stock", ExpiringLots(days))
        names = {level.sku: level for level in await self.system.levels()}
        today = self.system.today()
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
        zone, today = self.system.supervisor.ctx.zone, self.system.today()
        first = today - timedelta(days=days - 1)
        since, until = day_start(first, zone), day_start(today + timedelta(days=1), zone)
        usage = usage_by_day(await self.system.reader.moved("OUT", since, until), zone)
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
        opened = await self.system.reader.opened()
        if opened is None:
            return float(days)
        age = (self.system.supervisor.ctx.clock() - opened) / DAY
        return min(float(days), max(age, LEAST_SPAN))

    async def waste(self, first: date, last: date) -> dict[str, Any]:
        """What was written off from `first` to `last` (the store's days, inclusive)."""
        if last < first or (last - first).days > 366:
            raise ValidationError(
                "from must not be after to, and at most a year before it",
                [{"field": "from", "message": "bad period"}],
            )
        zone = self.system.supervisor.ctx.zone
        since, until = day_start(first, zone), day_start(last + timedelta(days=1), zone)
        wasted = waste_by_sku(await self.system.reader.moved("WASTE", since, until))
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
        days, lead = self.system.stock.usage_days, self.system.stock.lead_time_days
        usage = await self.usage(days)
        used = {entry["sku"]: entry["total"] for entry in usage["skus"]}
        span: float = usage["span_days"]
        levels = await self.system.levels()
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

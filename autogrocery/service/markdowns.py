"""Lots that will expire before they sell, and marking lots down (docs/api.md, "Fresh
food"). The rates of sale are read from the ledger (the store's reader); the walk of
each product's lots and the suggested markdowns are the stock actor's
(`actors/stock_markdowns.py`, the rule in `domain/at_risk.py`), which holds the lots.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from autogrocery.config import StockConfig
from autogrocery.domain.at_risk import AtRiskLot, MarkdownSold, MarkedLot
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages.markdowns import AtRiskLots, MarkDownLot
from autogrocery.domain.reports import day_start
from autogrocery.runtime.context import Context
from autogrocery.service.stock_reports import Ask, StockReports
from autogrocery.store.reads import Reader

AT_RISK_DAYS = (1, 14, 366)  # the rates' days: least, default, most


class MarkdownDesk:
    def __init__(
        self, ask: Ask, reader: Reader, ctx: Context, settings: StockConfig, reports: StockReports
    ) -> None:
        self.ask = ask
        self.reader = reader
        self.ctx = ctx
        self.settings = settings
        self.reports = reports

    async def at_risk(
        self, days: int, limit: int | None = None, after: tuple[str, str, str] | None = None
    ) -> tuple[float, list[AtRiskLot]]:
        """The span the rates are over (days, or the store's age), and the lots expected
        to hold units at expiry at each product's sales over the last `days` days (today
        included)."""
        least, _, most = AT_RISK_DAYS
        if not least <= days <= most:
            raise ValidationError(
                f"days must be {least} to {most}", [{"field": "days", "message": "out of range"}]
            )
        zone, today = self.ctx.zone, self.ctx.today()
        since = day_start(today - timedelta(days=days - 1), zone)
        until = day_start(today + timedelta(days=1), zone)
        used = await self.reader.used("OUT", since, until)
        span = await self.reports.span(days)
        rates = {sku: units / span for sku, units in used.items() if units > 0}
        settings = self.settings
        found = await self.ask(
            "stock",
            AtRiskLots(rates, settings.markdown_elasticity, settings.markdown_floor, limit, after),
        )
        return span, found

    async def listed(
        self, limit: int, after: tuple[float, str] | None, *, ended_too: bool
    ) -> list[MarkdownSold]:
        """Markdowns newest first, each with what sold at it (see `Reader.markdowns`)."""
        return await self.reader.markdowns(after, limit, self.ctx.clock(), ended_too=ended_too)

    async def mark_down(
        self, lot_id: str, price: int | None, until: str | None, user: str | None
    ) -> MarkedLot:
        """Mark a lot down to `price` until `until` (an RFC 3339 time, or a date: the end
        of that store day); `price` None ends its markdown."""
        ends = None if until is None or price is None else self.instant(until)
        return await self.ask("stock", MarkDownLot(lot_id, price, ends, user))

    def instant(self, text: str) -> float:
        """An RFC 3339 time, or the end of a store day named by its date."""
        moment: datetime | None = None
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return day_start(day + timedelta(days=1), self.ctx.zone)
            moment = datetime.fromisoformat(text)
            at = moment.timestamp()
        except (ValueError, OverflowError):  # not a date; or beyond year 9999
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValidationError(
                "until must be a date (2026-11-27) or a time with its offset "
                "(2026-11-27T18:00:00Z)",
                [{"field": "until", "message": "not a date or time"}],
            )
        return at

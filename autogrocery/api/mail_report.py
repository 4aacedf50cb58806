"""The daily report's content, from the store's own reports: yesterday's sales and
waste, what to reorder now, and the lots at risk (expiring within
stock.expiry_alert_days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from autogrocery.api.mail_compose import Section
from autogrocery.domain.money import format_money
from autogrocery.service.system import System

LISTED = 20  # lines a section lists


async def daily_sections(system: System, within_days: int, today: date) -> Sequence[Section]:
    reports = system.reports
    yesterday = today - timedelta(days=1)
    day = yesterday.isoformat()
    usage = await reports.usage(2)
    sold = sorted(
        (
            (entry["quantity"], usage_line["sku"])
            for usage_line in usage["skus"]
            for entry in usage_line.get("days", [])
            if entry["date"] == day
        ),
        reverse=True,
    )
    waste = await reports.waste(yesterday, yesterday)
    reorder = await reports.reorder()
    at_risk = await reports.expiring(within_days, LISTED)
    units = sum(int(str(quantity)) for quantity, _ in sold)
    return [
        Section(
            f"Sales on {day}: {units} units of {len(sold)} products",
            [f"{sku}: {quantity}" for quantity, sku in sold[:LISTED]],
        ),
        Section(
            f"Waste on {day}: {waste['total_value'] or format_money(0)} at cost",
            [f"{w['sku']}: {w['quantity']} ({w['value']})" for w in waste["skus"][:LISTED]],
        ),
        Section(
            f"To reorder: {len(reorder['suggestions'])} products",
            [
                f"{s['sku']}: order {s['quantity']} ({s['available']} available)"
                for s in reorder["suggestions"][:LISTED]
            ],
        ),
        Section(
            f"At risk: lots expiring within {within_days} days",
            [
                f"{level.name} ({lot.sku}), lot {lot.lot_id}: {lot.on_hand}, best before "
                f"{lot.expiry.isoformat() if lot.expiry else '?'}"
                for lot, level in at_risk
            ],
        ),
    ]

"""The daily report's content, from the store's own reports: yesterday's sales and
waste, what to reorder now, and the lots at risk (GET /api/ops/reports/at-risk: those
expected to hold units when they expire, with the suggested markdown)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from autogrocery.api.mail_compose import Section
from autogrocery.domain.money import format_money
from autogrocery.service.markdowns import AT_RISK_DAYS
from autogrocery.service.system import System

LISTED = 20  # lines a section lists


async def daily_sections(system: System, today: date) -> Sequence[Section]:
    reports = system.reports
    yesterday = today - timedelta(days=1)
    day = yesterday.isoformat()
    usage = await reports.usage(min(366, (system.today() - yesterday).days + 1))
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
    _, at_risk = await system.markdowns.at_risk(AT_RISK_DAYS[1], LISTED)
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
            "At risk: lots expected to expire before they sell"
            + (f" (the first {LISTED}, soonest first)" if len(at_risk) == LISTED else ""),
            [
                f"{risk.lot.name} ({risk.lot.sku}), lot {risk.lot.lot_id}: {risk.seen.left} of "
                f"{risk.lot.on_hand} left at expiry; suggested price "
                f"{format_money(risk.suggested.price)} (now {format_money(risk.lot.price)})"
                for risk in at_risk
            ],
        ),
    ]

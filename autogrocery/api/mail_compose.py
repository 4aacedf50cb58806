"""What a mail says: one notice, several at once (a digest, or what waited out quiet
hours), and the daily report; each as plain text and as HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from autogrocery.api.mail_tables import Mail, Notice
from autogrocery.domain import events
from autogrocery.domain.models import rfc3339
from autogrocery.domain.money import format_money

PREFIX = "[autogrocery]"
LISTED = 100  # notices a mail lists; the rest are counted


def kind_of(notice: Notice) -> str | None:
    """The preference a notice answers to (contract/notifications.py), or None for
    those no one is mailed (an alert cleared)."""
    if notice.type == events.ALERT_RAISED:
        return "low_stock" if notice.facts.get("kind") == "low" else "expiring"
    return {
        events.STOCK_EXPIRED: "expired",
        events.LARGE_MOVEMENT: "large_movement",
        events.ROBOT_OFFLINE: "robot_offline",
        events.HEAD_OFFICE_UNREACHABLE: "head_office_unreachable",
    }.get(notice.type)


def headline(notice: Notice) -> str:
    """One line saying what happened."""
    f = notice.facts
    product = f"{f.get('name')} ({f.get('sku')})"
    match kind_of(notice):
        case "low_stock":
            return f"Low stock: {product}, {f.get('available')} available, min {f.get('min_level')}"
        case "expiring":
            return (
                f"Expiring: {f.get('quantity')} of {product} in lot {f.get('lot_id')}, "
                f"best before {f.get('expiry_date')}"
            )
        case "expired":
            value = format_money(int(f.get("value", 0)))
            return f"Expired stock written off: {f.get('units')} units worth {value} at cost"
        case "large_movement":
            return (
                f"Large movement: {f.get('reason')} {f.get('delta'):+} of {product} "
                f"by {f.get('user') or 'someone'}"
            )
        case "robot_offline":
            return f"Robot offline: {f.get('robot_id')} (aisle {f.get('aisle')})"
        case "head_office_unreachable":
            return f"Head office unreachable for {f.get('down_for')} s"
    return notice.type


def details(notice: Notice) -> list[str]:
    """Lines under the headline."""
    f = notice.facts
    lines = [f"At {rfc3339(notice.at)}."]
    if notice.type == events.STOCK_EXPIRED:
        for lot in f.get("lots") or []:
            value = format_money(int(lot["value"]))
            lot_id, quantity = lot["lot_id"], lot["quantity"]
            lines.append(f"  {lot['name']} ({lot['sku']}), lot {lot_id}: {quantity} ({value})")
    elif notice.type == events.LARGE_MOVEMENT and f.get("note"):
        lines.append(f"Note: {f['note']}")
    return lines


def one(notice: Notice, recipient: str) -> Mail:
    title = headline(notice)
    body = [title, "", *details(notice)]
    return _mail(recipient, f"{PREFIX} {title}", body)


def several(notices: Sequence[Notice], recipient: str, what: str) -> Mail:
    """`what`: "Daily digest", "While you were away"…"""
    lines = [f"{what}: {len(notices)} notices.", ""]
    for notice in notices[:LISTED]:
        lines.append(f"- {headline(notice)} ({rfc3339(notice.at)})")
    if len(notices) > LISTED:
        lines.append(f"… and {len(notices) - LISTED} more (GET /api/ops/alerts)")
    return _mail(recipient, f"{PREFIX} {what}: {len(notices)} notices", lines)


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    lines: list[str]


def report(recipient: str, day: str, sections: Sequence[Section]) -> Mail:
    lines = [f"The store's day, {day}.", ""]
    for section in sections:
        lines += [section.title, *[f"  {line}" for line in section.lines or ["none"]], ""]
    return _mail(recipient, f"{PREFIX} Daily report for {day}", lines)


def _mail(recipient: str, subject: str, lines: list[str]) -> Mail:
    subject = " ".join(subject.split())  # one line, whatever a product's name holds
    text = "\n".join(lines).rstrip() + "\n"
    markup = "".join(
        f"<p>{html.escape(line.strip())}</p>" if line.strip() else "" for line in lines
    )
    page = f"<html><body><h2>{html.escape(subject)}</h2>{markup}</body></html>\n"
    return Mail(recipient, subject, text, page)

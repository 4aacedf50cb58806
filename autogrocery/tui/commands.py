"""The dashboard's own entries in the command palette (ctrl+p): every action, panel
and orders filter by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from textual.app import SystemCommand

from autogrocery.tui.model import PANELS, STATUSES
from autogrocery.tui.reports import PERIODS


class Dashboard(Protocol):
    """What the palette's entries ask of the dashboard."""

    def action_restock(self) -> None: ...
    def action_adjust(self) -> None: ...
    def action_command(self) -> None: ...
    def action_edit_product(self) -> None: ...
    def action_notifications(self) -> None: ...
    def action_show(self, name: str) -> None: ...
    def set_select(self, select: str, value: str | None) -> None: ...
    def show_waste_over(self, days: int) -> None: ...


KIND_LABELS = {None: "orders and restocks", "CUSTOMER": "orders only", "RESTOCK": "restocks only"}


def commands(app: Dashboard) -> Iterator[SystemCommand]:
    yield SystemCommand("Restock", "Submit a truck restock manifest (r)", app.action_restock)
    yield SystemCommand("Adjust stock", "WASTE, ADJUST or COUNT a SKU (s)", app.action_adjust)
    yield SystemCommand(
        "Stock command", 'Say it: "took 3 small cola", "counted 40 eggs" (c)', app.action_command
    )
    yield SystemCommand("Change price or min level", "Edit a product (e)", app.action_edit_product)
    yield SystemCommand(
        "Mail me", "What you are mailed: alerts, digest, quiet hours (n)", app.action_notifications
    )
    for number, name in enumerate(PANELS, start=1):
        yield SystemCommand(
            f"Show {name}",
            f"Switch to the {name} panel ({number})",
            lambda name=name: app.action_show(name),
        )
    for days in PERIODS:
        yield SystemCommand(
            f"Waste over {days} days",
            f"Reports panel: waste of the last {days} days, at cost (6)",
            lambda days=days: app.show_waste_over(days),
        )
    for kind, label in KIND_LABELS.items():
        yield SystemCommand(
            f"Show {label}",
            f"Orders panel: {label} (k)",
            lambda kind=kind: app.set_select("#kind-filter", kind),
        )
    for status in (None, *STATUSES):
        yield SystemCommand(
            f"Orders: {(status or 'all').lower()}",
            f"Show {'only ' + status if status else 'every'} order",
            lambda status=status: app.set_select("#status-filter", status),
        )

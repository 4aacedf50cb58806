"""The dashboard's status line and the tab labels that count something: drawn from the
model alone, so each count has one source (the alerts: `StoreModel.alert_count`)."""

from __future__ import annotations

from rich.text import Text

from autogrocery.tui.feed import Link
from autogrocery.tui.format import plural
from autogrocery.tui.model import StoreModel

TITLES = {
    "orders": "1 Orders",
    "inventory": "2 Inventory",
    "robots": "3 Robots",
    "analytics": "4 Analytics",
    "alerts": "5 Alerts",
    "reports": "6 Reports",
}


def tab_labels(model: StoreModel) -> dict[str, str]:
    """The labels of the tabs whose title carries a count."""
    offline = len(model.offline_robots())
    alerts = model.alert_count
    return {
        "robots": f"{TITLES['robots']} ✖{offline}" if offline else TITLES["robots"],
        "alerts": f"{TITLES['alerts']} ({alerts})" if alerts else TITLES["alerts"],
    }


def status_line(model: StoreModel, link: Link) -> Text:
    """`● live · 5,239 orders · 41 restocks · 4/5 robots online · 6 alerts`."""
    offline = len(model.offline_robots())
    dot = ("● live", "green") if link.connected else ("● disconnected", "bold red")
    counts = model.store_counts()
    held = (
        f"{plural(counts['customer'], 'order')} · {plural(counts['restock'], 'restock')}"
        if counts is not None
        else "counting orders…"
    )
    robots = f"{len(model.robots) - offline}/{len(model.robots)} robots online"
    alerts = model.alert_count
    return Text.assemble(
        dot,
        f" · {held} · ",
        (robots, "bold red") if offline else robots,
        " · ",
        (plural(alerts, "alert"), "yellow") if alerts else "no alerts",
        *head_office(model),
    )


def head_office(model: StoreModel) -> tuple[tuple[str, str] | str, ...]:
    """` · head office ✓` or ` · head office unreachable · 312 events wait` (a store in a
    chain only)."""
    chain = model.chain
    if chain is None:
        return ()
    waiting = chain.outbox_pending
    wait = f" · {plural(waiting, 'event')} wait{'s' if waiting == 1 else ''}" if waiting else ""
    if chain.hub_connected:
        return (" · ", ("head office ✓", "green"), wait)
    return (" · ", ("head office unreachable", "bold red"), wait)

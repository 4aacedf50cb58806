"""The head office's status line and the tab labels that count something, drawn from
the model alone (each count has one source: the stores from `GET /api/chain/stores`,
the transfers in flight as the feed last counted them)."""

from __future__ import annotations

from rich.text import Text

from autogrocery.tui.chain.model import ChainModel
from autogrocery.tui.feed import Link

TITLES = {
    "stores": "1 Stores",
    "stock": "2 Stock",
    "transfers": "3 Transfers",
    "sales": "4 Sales",
}


def tab_labels(model: ChainModel) -> dict[str, str]:
    down = len(model.down())
    flying = model.in_flight
    return {
        "stores": f"{TITLES['stores']} ✖{down}" if down else TITLES["stores"],
        "transfers": (
            f"{TITLES['transfers']} ({flying})" if flying and flying.count else TITLES["transfers"]
        ),
    }


def status_line(model: ChainModel, link: Link) -> Text:
    """`● live · 2/3 stores up · 1 down · 4 transfers in flight · catalog v3`."""
    dot = ("● live", "green") if link.connected else ("● disconnected", "bold red")
    if not model.stores:
        return Text.assemble(dot, " · ", "no store heard of yet" if model.polls else "asking…")
    up, down = len(model.up()), len(model.down())
    stores = f"{up}/{len(model.stores)} stores up"
    flying = model.in_flight
    transfers = (
        "counting transfers…"
        if flying is None
        else f"{flying} transfer{'' if str(flying) == '1' else 's'} in flight"
    )
    return Text.assemble(
        dot,
        " · ",
        (stores, "green") if up == len(model.stores) else stores,
        *((" · ", (f"{down} down", "bold red")) if down else ()),
        " · ",
        (transfers, "yellow") if flying and flying.count else transfers,
        " · ",
        f"catalog v{model.catalog_version}" if model.catalog_version else "no catalog version",
    )

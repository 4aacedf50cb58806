"""Which SKUs the bench's baskets draw from: those with stock enough for the whole run.

A store with a long tail (a 50,000-SKU store holds a few units of most fresh products)
refuses previews the bench would count as the store's slowness. The rule: in each
aisle, the SKUs in play are the best-stocked ones, as many as can each cover their
share of the most lines the run could send to the aisle, with room for chance. The
most lines: `ceiling` orders a second (the open loop's rate; for the closed loop half as
much again as the fastest this bench has measured) over warm-up and measured window,
`items` lines an order, spread evenly over the aisles. A SKU's share of its aisle's
lines is a Poisson count of mean m; it is in play when its `available` stock is at
least m + 4·√m + 1 (short with odds well under one in ten thousand). When no SKU
is, every SKU with stock is in play and the report says previews may be refused
(a small store's shipped stock cannot cover a closed loop's ceiling). A store's
stock runs down run after run: on the 2M-order reference store one run leaves too
little for the next, so each run there starts from a fresh copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

CLOSED_LOOP_CEILING = 1500.0  # orders/s: the fastest measured on the 2-core VM is ~1,050


class Level(TypedDict):
    """What the bench reads of a product's stock (/api/ops/inventory)."""

    sku: str
    aisle: str
    available: int
    on_hand: int
    reserved: int


class PoolSummary(TypedDict):
    skus: int
    of_skus: int
    aisles: int
    available_at_least: int
    orders_at_most: int
    covered: bool  # False: previews may be refused for stock


@dataclass(frozen=True)
class Pool:
    skus_by_aisle: dict[str, list[str]]
    summary: PoolSummary  # for the report


def enough(mean: float) -> int:
    """Units a SKU needs to cover a Poisson draw of `mean` units, bar bad luck."""
    return math.ceil(mean + 4.0 * math.sqrt(mean)) + 1


def stocked_pool(levels: dict[str, Level], items: int, orders_at_most: float) -> Pool:
    """The SKUs in play from `levels` (the operator's inventory by SKU: `aisle`,
    `available`), for a run of at most `orders_at_most` orders of `items` lines."""
    by_aisle: dict[str, list[tuple[int, str]]] = {}
    for sku, level in levels.items():
        by_aisle.setdefault(level["aisle"], []).append((int(level["available"]), sku))
    lines_per_aisle = orders_at_most * items / max(1, len(by_aisle))
    chosen: dict[str, list[str]] = {}
    floors: list[int] = []
    for aisle, stocked in sorted(by_aisle.items()):
        stocked.sort(reverse=True)
        in_play = 0
        for count, (available, _) in enumerate(stocked, start=1):
            if available >= enough(lines_per_aisle / count):
                in_play = count
        if in_play:
            chosen[aisle] = sorted(sku for _, sku in stocked[:in_play])
            floors.append(enough(lines_per_aisle / in_play))
    covered = bool(chosen)
    if not covered:  # too little stock anywhere for the rule: every SKU that has some
        for aisle, stocked in sorted(by_aisle.items()):
            if in_stock := sorted(sku for available, sku in stocked if available > 0):
                chosen[aisle] = in_stock
    return Pool(
        chosen,
        {
            "skus": sum(len(skus) for skus in chosen.values()),
            "of_skus": len(levels),
            "aisles": len(chosen),
            "available_at_least": min(floors, default=1),
            "orders_at_most": round(orders_at_most),
            "covered": covered,
        },
    )

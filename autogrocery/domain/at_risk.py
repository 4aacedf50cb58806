"""What will expire before it sells, and the markdown that would sell it in time.

A product sells at its recent rate (units a day). Its lots sell first-expired-first-out:
the lot that expires first is sold until it is gone or expires, then the next. So a lot
starts selling when the lots before it are gone (or expired), and sells until its own
best-before day ends in the store's time zone; what it holds beyond the rate times that
time is left at expiry, to be written off.

While a lot is marked down, it sells faster: demand at price `p` is the rate at the
normal price `p0` times `(p / p0) ** -elasticity` (a constant elasticity). The suggested
markdown is the price at which the lot sells out by its expiry (rounded down to a cent),
never above the normal price less a cent, and never below the lot's unit cost unless even
the cost would leave units to write off: then not below `floor` times the unit cost
(and 1 cent). With no sales to go by (or no time left), nothing predicts a price: the
floor is suggested, as the last chance before the write-off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

EPSILON = 1e-9  # against floats that mean a whole unit (3 x 0.1 days x 10/day)


@dataclass(frozen=True, slots=True)
class OnSale:
    """A dated lot's units for sale (on hand less what orders hold) and until when:
    `days` from now to the end of its best-before day. `lift`: how much faster than
    the product's rate it sells (a markdown's; 1 without one)."""

    lot_id: str
    expiry: date
    free: int
    days: float
    lift: float = 1.0


@dataclass(frozen=True, slots=True)
class Outlook:
    """A lot's expected sales before it expires, and what is left then. `window`: the
    days it is the one on sale (from when the lots before it are gone to its expiry)."""

    lot: OnSale
    sold: int
    left: int
    window: float


def outlook(lots: Sequence[OnSale], rate: float) -> list[Outlook]:
    """Each lot's sales and leftover, walking `lots` (FEFO order) at `rate` units a day."""
    found: list[Outlook] = []
    start = 0.0  # days from now: when the lot now on sale begins to sell
    for lot in lots:
        window = max(0.0, lot.days - start)
        speed = rate * lot.lift
        if speed > 0 and window > 0:
            selling = min(window, lot.free / speed)
            sold = min(lot.free, math.floor(speed * selling + EPSILON))
            start += selling
        else:
            sold = 0
            start = max(start, lot.days) if speed > 0 else start
        found.append(Outlook(lot, sold, lot.free - sold, window))
    return found


def lift(markdown: int, price: int, elasticity: float) -> float:
    """How much faster a product sells at `markdown` than at `price`."""
    if markdown >= price or markdown <= 0 or price <= 0:
        return 1.0
    return float((markdown / price) ** -elasticity)


@dataclass(frozen=True, slots=True)
class Suggestion:
    price: int  # cents
    left: int  # units still expected left at expiry at that price
    below_cost: bool


def suggest(
    seen: Outlook, rate: float, price: int, unit_cost: int, elasticity: float, floor: float
) -> Suggestion:
    """The markdown for a lot left with units at expiry (see the module's rule)."""
    lowest = max(1, math.ceil(unit_cost * floor - EPSILON))
    highest = max(1, price - 1)
    free, window = seen.lot.free, seen.window
    if rate <= 0 or window <= 0:
        wanted = float(lowest)
    else:
        needed = free / (window * rate)  # how many times faster it must sell
        wanted = price * needed ** (-1 / elasticity) if needed > 1 else float(highest)
    cents = min(highest, math.floor(wanted + EPSILON))
    if cents < unit_cost:
        cents = max(cents, lowest)
    cents = max(1, min(cents, highest))
    sells = rate * lift(cents, price, elasticity) * window
    left = max(0, free - math.floor(min(sells, free) + EPSILON))
    return Suggestion(cents, left, cents < unit_cost)


@dataclass(frozen=True, slots=True)
class Markdown:
    """A lot's markdown: its price (cents) from `since` until `until` (epoch seconds;
    None: until the lot is gone or expires)."""

    lot_id: str
    sku: str
    price: int
    since: float
    until: float | None
    user: str | None = None

    def active(self, at: float) -> bool:
        return self.until is None or at < self.until


# A markdown with what sold at it: lot_id, sku, price, since, until, user, units, cents.
MarkdownSold = tuple[str, str, int, float, float | None, str | None, int, int]


@dataclass(frozen=True, slots=True)
class MarkedLot:
    """A lot with its markdown as stock holds it: what the markdown call answers.
    `markdown` is None once it was ended."""

    lot_id: str
    sku: str
    name: str
    expiry: date | None
    on_hand: int
    held: int
    unit_cost: int
    price: int  # the product's price, cents
    markdown: Markdown | None


@dataclass(frozen=True, slots=True)
class AtRiskLot:
    """A lot expected to hold units when it expires, at its product's recent rate."""

    lot: MarkedLot
    daily_sales: float
    seen: Outlook
    suggested: Suggestion

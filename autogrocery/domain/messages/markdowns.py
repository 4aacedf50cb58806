"""Stock: marking lots down, and the lots that will expire before they sell."""

from __future__ import annotations

from dataclasses import dataclass

from autogrocery.domain.at_risk import AtRiskLot, MarkedLot
from autogrocery.domain.messages.answered import Answered


@dataclass(frozen=True, slots=True)
class MarkDownLot(Answered[MarkedLot]):
    """Stock: sell the lot's units at `price` (cents) until `until` (epoch seconds; None:
    until it is gone or expires); `price` None ends its markdown now."""

    lot_id: str
    price: int | None
    until: float | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class AtRiskLots(Answered[list[AtRiskLot]]):
    """Stock: the dated lots expected to hold units at expiry, selling at `rates` (units
    a day by SKU; absent: 0) first-expired-first-out, with a suggested markdown each
    (`elasticity`, `floor`: domain/at_risk.py): the earliest best-before first (then by
    SKU and lot id), up to `limit` of them after the lot keyed `after`."""

    rates: dict[str, float]
    elasticity: float
    floor: float
    limit: int | None = None
    after: tuple[str, str, str] | None = None

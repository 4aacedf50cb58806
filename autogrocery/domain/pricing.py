"""The repricing rule, applied to a SKU after each restock.

    price = unit_cost x (1 + margin) x factor
    factor = clamp(1 + scarcity_weight x (min_level - available) / (min_level + available),
                   min_factor, max_factor)

Stock at its min level sells at cost plus margin. Below it the price rises (with
no stock at all, by up to `scarcity_weight`); above it the price falls towards
`1 - scarcity_weight`. The factor never leaves [min_factor, max_factor] and the
price never drops below unit cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autogrocery.domain.money import round_cents


@dataclass(frozen=True, slots=True)
class PricingRule:
    margin: float
    scarcity_weight: float
    min_factor: float
    max_factor: float

    def price(self, unit_cost: int, available: int, min_level: int) -> int:
        shortfall = (min_level - available) / max(min_level + available, 1)
        factor = min(self.max_factor, max(self.min_factor, 1 + self.scarcity_weight * shortfall))
        amount = Decimal(unit_cost) * Decimal(str(1 + self.margin)) * Decimal(str(factor))
        return max(unit_cost, round_cents(amount), 1)

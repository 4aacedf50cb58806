"""The products as a search needs them, kept while nothing describes them differently.

Building them means every product's levels from the stock actor: 0.4-0.75 s of its
time at 50,000 SKUs, during which no order is previewed. A search reads names, aisles
and details, which change seldom, so the list is kept until the stock actor's
`DescriptionsVersion` moves (a product added, renamed, moved or re-described), and the
levels a page shows are asked for those SKUs alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from autogrocery.domain.catalog import live_products
from autogrocery.domain.messages.stock import DescriptionsVersion, LevelsOf, StockLevels
from autogrocery.domain.models import Product
from autogrocery.domain.records import StockLevel
from autogrocery.service.stock_reports import Ask


class DescribedProducts:
    def __init__(self, ask: Ask) -> None:
        self.ask = ask
        self._kept: tuple[tuple[int, int], list[Product]] | None = None

    async def products(self) -> list[Product]:
        """Every product, in shelf order; the same list while their descriptions hold
        (its prices and stock may be old: read a page's from `levels_of`)."""
        version = await self.ask("stock", DescriptionsVersion())  # before the levels
        if self._kept is not None and self._kept[0] == version:
            return self._kept[1]
        levels: list[StockLevel] = await self.ask("stock", StockLevels())
        products = live_products(levels)
        self._kept = (version, products)
        return products

    async def levels_of(self, skus: Iterable[str]) -> list[StockLevel]:
        found: list[StockLevel] = await self.ask("stock", LevelsOf(tuple(skus)))
        return found

"""The products as a search needs them, with their search index, kept while nothing
describes them differently.

Building them means every product's levels from the stock actor, a page of
`LEVELS_PAGE` at a time (all at once held it for 0.4-0.75 s at 50,000 SKUs, during
which no order was previewed and no readiness probe answered; between pages its other
messages go first), and an index of their words (`domain.search_index`, seconds at
50,000 SKUs, in a worker thread). A search reads
names, aisles and details, which change seldom, so both are kept until the stock
actor's `DescriptionsVersion` moves (a product added, renamed, moved or re-described),
never for a change of stock or price; the levels a page shows are asked for its SKUs
alone.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterable

from autogrocery.domain.catalog import live_products
from autogrocery.domain.messages.stock import DescriptionsVersion, LevelsOf, StockPage
from autogrocery.domain.records import StockLevel
from autogrocery.domain.search import IndexedProducts
from autogrocery.domain.search_index import SearchIndex
from autogrocery.service.stock_reports import Ask

LEVELS_PAGE = 2_000  # products a page of the levels a build reads: ~20 ms of stock's time


class DescribedProducts:
    def __init__(self, ask: Ask) -> None:
        self.ask = ask
        self._kept: tuple[tuple[int, int], IndexedProducts] | None = None
        self._building = asyncio.Lock()  # one build at a time; other searches wait for it
        self.builds = 0  # how many times the products and their index were built

    async def products(self) -> IndexedProducts:
        """Every product, in shelf order, indexed (`search.search` over them asks the
        index); the same list while their descriptions hold (its prices and stock may
        be old: read a page's from `levels_of`)."""
        version = await self.ask("stock", DescriptionsVersion())  # before the levels
        kept = self._kept
        if kept is not None and kept[0] == version:  # the usual case: no lock, no wait
            return kept[1]
        async with self._building:  # one build at a time; the others wait for it
            version = await self.ask("stock", DescriptionsVersion())
            if self._kept is not None and self._kept[0] == version:
                return self._kept[1]
            levels = await self._every_level()
            products = await asyncio.to_thread(lambda: SearchIndex(live_products(levels)))
            # The index lives until the catalog is described anew: out of the cyclic
            # collector's sight, as what the store loaded at start (tune_for_serving).
            # Tracked, each full collection walked its sets and products: 50 ms at
            # 50,000 SKUs, holding the GIL, a few times a second under load. (What
            # else is alive just now is frozen too; freed by its references as ever.)
            gc.freeze()
            self._kept = (version, products.indexed())
            self.builds += 1
            return self._kept[1]

    async def _every_level(self) -> list[StockLevel]:
        """Every product's levels in shelf order, a page at a time. A product described
        anew between pages moves the version read before them: the next search builds
        again."""
        levels: list[StockLevel] = []
        after: tuple[str, str] | None = None
        while True:
            page = await self.ask("stock", StockPage(LEVELS_PAGE, after))
            levels.extend(page)
            if len(page) < LEVELS_PAGE:
                return levels
            after = (page[-1].aisle, page[-1].sku)

    async def levels_of(self, skus: Iterable[str]) -> list[StockLevel]:
        found: list[StockLevel] = await self.ask("stock", LevelsOf(tuple(skus)))
        return found

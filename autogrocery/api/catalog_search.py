"""The API's catalog search: one `SearchIndex` of the store's products, built off the
loop when what describes them changes (a product added, renamed or described anew),
never when only their stock or price does.

The API owns it (it is derived from the stock actor's levels, and nobody else writes
it); a search checks it against the levels it was given, so an operator's new product
is found by the next search after it.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Sequence

from autogrocery.domain.catalog import live_products
from autogrocery.domain.records import StockLevel
from autogrocery.domain.search import Hit
from autogrocery.domain.search_index import SearchIndex

# What the index depends on: each product's name, aisle (its default category) and
# details, in the levels' order (an empty query lists them so).
_DESCRIPTION = operator.attrgetter("sku", "name", "aisle", "details")


def _described_alike(levels: Sequence[StockLevel], before: Sequence[StockLevel]) -> bool:
    """The same products described the same way. Quick while nothing changed: the stock
    actor hands out the same name and details objects, so each == is an `is`; and no
    tuple outlives its comparison (50,000 kept ones would wake the garbage collector)."""
    return len(levels) == len(before) and all(
        map(operator.eq, map(_DESCRIPTION, levels), map(_DESCRIPTION, before))
    )


class CatalogSearch:
    def __init__(self) -> None:
        self._index: SearchIndex | None = None
        self._built_from: Sequence[StockLevel] = ()
        self._lock = asyncio.Lock()  # one build at a time; other searches wait for it
        self.builds = 0  # how many times the index was built

    async def search(
        self,
        levels: Sequence[StockLevel],
        query: str,
        *,
        category: str | None = None,
        limit: int | None = None,
    ) -> list[Hit]:
        """`domain.search.search` over the products of `levels`, best first; the hits'
        products carry the descriptions, not the stock or price (take those from the
        levels)."""
        index = await self.index(levels)
        return await asyncio.to_thread(index.search, query, category=category, limit=limit)

    async def index(self, levels: Sequence[StockLevel]) -> SearchIndex:
        """The index of `levels`' products, built again first if they were described
        otherwise when it was built."""
        async with self._lock:
            self._index = await asyncio.to_thread(self._fresh, levels)
            return self._index

    def _fresh(self, levels: Sequence[StockLevel]) -> SearchIndex:
        if self._index is None or not _described_alike(levels, self._built_from):
            self._index = SearchIndex(live_products(levels))
            self._built_from = levels
            self.builds += 1
        return self._index

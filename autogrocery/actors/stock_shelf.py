"""The stock actor's products in shelf order (aisle, then SKU), read a page at a time.

A page is found by bisecting the sorted keys, so reading one costs the page, not the
store: at 50,000 SKUs a device's catalog page or its revalidation must not walk them
all. The order is kept until the set of products or an aisle changes.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterator
from datetime import date

from autogrocery.actors.stock_items import Item
from autogrocery.domain.messages.stock import StockPage
from autogrocery.domain.records import StockLevel
from autogrocery.domain.words import fold


class Shelf:
    """The (aisle, SKU) keys of every product, sorted; rebuilt when stale."""

    def __init__(self) -> None:
        self._keys: list[tuple[str, str]] | None = None

    def invalidate(self) -> None:
        """An aisle changed: the order must be built again."""
        self._keys = None

    def keys(self, items: dict[str, Item]) -> list[tuple[str, str]]:
        # Products are only ever added (or an add undone), so a count that differs is
        # a change of the set; aisle changes call invalidate().
        if self._keys is None or len(self._keys) != len(items):
            self._keys = sorted((item.aisle, item.sku) for item in items.values())
        return self._keys

    def page(self, items: dict[str, Item], msg: StockPage, today: date) -> list[StockLevel]:
        found: list[StockLevel] = []
        category = _folded(msg.category) if msg.category is not None else None
        prefix = msg.sku_prefix.casefold() if msg.sku_prefix is not None else None
        for item in self._after(items, msg.after, msg.aisle):
            if msg.aisle is not None and item.aisle != msg.aisle:
                break  # past the aisle: its keys are contiguous
            if prefix is not None and not item.sku.casefold().startswith(prefix):
                continue
            if category is not None and _category(item) != category:
                continue
            level = item.level(today)
            if msg.below_min and not level.low:
                continue
            found.append(level)
            if len(found) >= msg.limit:
                break
        return found

    def _after(
        self, items: dict[str, Item], after: tuple[str, str] | None, aisle: str | None
    ) -> Iterator[Item]:
        keys = self.keys(items)
        start = after
        if aisle is not None and (after is None or after < (aisle, "")):
            start = (aisle, "")  # straight to the aisle's first key
        at = 0 if start is None else bisect.bisect_right(keys, start)
        for index in range(at, len(keys)):
            item = items.get(keys[index][1])
            if item is not None:
                yield item


def _category(item: Item) -> str:
    """As search compares it: a product nobody described is in its aisle's category."""
    category = item.details.category if item.details is not None else ""
    return _folded(category or item.aisle)


@functools.lru_cache(maxsize=1024)  # a store has tens of categories, not thousands
def _folded(category: str) -> str:
    return fold(category).strip()

"""The stock actor's products in shelf order (aisle, then SKU), read a page at a time.

A page is found by bisecting the sorted keys, so reading one costs the page, not the
store: at 50,000 SKUs a device's catalog page or its revalidation must not walk them
all. The order is kept until the set of products or an aisle changes. The filters that
match few products start from those few: the low ones from the open low-stock alerts,
a SKU prefix from the SKUs in their own order.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Iterator
from datetime import date

from autogrocery.actors.stock_items import Item
from autogrocery.domain.messages.stock import StockPage
from autogrocery.domain.records import StockLevel
from autogrocery.domain.words import fold


class Shelf:
    """The (aisle, SKU) keys of every product, sorted; rebuilt when stale."""

    def __init__(self) -> None:
        self._keys: list[tuple[str, str]] | None = None
        self._skus: list[tuple[str, str]] | None = None  # (folded SKU, SKU), sorted
        self._described = 0  # bumped when a product is described differently

    def invalidate(self) -> None:
        """An aisle changed, or an add was undone: the orders must be built again (an
        undone add then another would leave the count, so the version, as before)."""
        self._keys = None
        self._skus = None
        self.described()

    def unadd(self, items: dict[str, Item], sku: str) -> None:
        """Undo a product's add (its batch rolled back)."""
        items.pop(sku, None)
        self.invalidate()

    def described(self) -> None:
        """A product's name or details changed (an undo counts too: versions only grow)."""
        self._described += 1

    def version(self, items: dict[str, Item]) -> tuple[int, int]:
        """Changes when a product is added (or an add undone) or described differently."""
        return self._described, len(items)

    def keys(self, items: dict[str, Item]) -> list[tuple[str, str]]:
        # Products are only ever added (or an add undone), so a count that differs is
        # a change of the set; aisle changes call invalidate().
        if self._keys is None or len(self._keys) != len(items):
            self._keys = sorted((item.aisle, item.sku) for item in items.values())
        return self._keys

    def starting(self, items: dict[str, Item], prefix: str) -> list[str]:
        """The SKUs that start with `prefix` (folded), by bisecting them in SKU order."""
        if self._skus is None or len(self._skus) != len(items):
            self._skus = sorted((sku.casefold(), sku) for sku in items)
        skus = self._skus
        at = bisect.bisect_left(skus, (prefix,))
        found = []
        while at < len(skus) and skus[at][0].startswith(prefix):
            found.append(skus[at][1])
            at += 1
        return found

    def page(
        self, items: dict[str, Item], msg: StockPage, today: date, low: Iterable[str]
    ) -> list[StockLevel]:
        """`low`: every SKU that may be below its min level (open alerts and what this
        batch touched); only read with `below_min`."""
        found: list[StockLevel] = []
        prefix = msg.sku_prefix.casefold() if msg.sku_prefix is not None else None
        few: Iterable[str] | None = None
        if msg.below_min:
            few = low
        elif prefix is not None:
            few = self.starting(items, prefix)
        keys = (
            self.keys(items)
            if few is None
            else sorted({(items[sku].aisle, sku) for sku in few if sku in items})
        )
        category = _folded(msg.category) if msg.category is not None else None
        for item in _after(items, keys, msg.after, msg.aisle):
            if msg.aisle is not None and item.aisle != msg.aisle:
                break  # past the aisle: its keys are contiguous
            if prefix is not None and not item.sku.casefold().startswith(prefix):
                continue  # a low product of another prefix
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
    items: dict[str, Item],
    keys: list[tuple[str, str]],
    after: tuple[str, str] | None,
    aisle: str | None,
) -> Iterator[Item]:
    """The items of the sorted `keys` past `after` (and from `aisle`'s first on)."""
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

"""The stock actor's shelf order and descriptions version stay true when a batch that
added a product is rolled back (a full disk) and another product is added after it."""

from __future__ import annotations

from autogrocery.actors.stock_items import Item
from autogrocery.actors.stock_shelf import Shelf


def test_an_undone_add_then_another_add_is_seen_as_a_change() -> None:
    shelf = Shelf()
    items = {"BRD-001": Item("BRD-001", "Sourdough", "bread", "loaf", 5)}
    items["BRD-900"] = Item("BRD-900", "Rye", "bread", "loaf", 5)  # added, then read
    with_rye = shelf.version(items)
    assert shelf.keys(items) == [("bread", "BRD-001"), ("bread", "BRD-900")]
    assert shelf.starting(items, "brd-9") == ["BRD-900"]

    shelf.unadd(items, "BRD-900")  # its batch rolled back
    items["BRD-901"] = Item("BRD-901", "Spelt", "bread", "loaf", 5)  # the next batch's add

    assert shelf.version(items) != with_rye  # searches rebuild: Rye is gone, Spelt is new
    assert shelf.keys(items) == [("bread", "BRD-001"), ("bread", "BRD-901")]
    assert shelf.starting(items, "brd-9") == ["BRD-901"]

"""Catalog search: case-, accent- and word-order-insensitive, over every name in every
language, ranked (a whole name above all its words above word starts above typos),
filtered by category."""

from __future__ import annotations

from dataclasses import replace

import pytest

from autogrocery.domain.catalog import load_catalog
from autogrocery.domain.models import Product
from autogrocery.domain.search import Rank, nearest, search
from autogrocery.domain.words import distance, fold, keys, tokens
from tests.domain.test_plainwords_table import CATALOG

PRODUCTS = load_catalog(CATALOG)


def skus(query: str, **options: str) -> list[str]:
    return [hit.product.sku for hit in search(query, PRODUCTS, **options)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cola", ["COLA-L", "COLA-S"]),
        ("COLA", ["COLA-L", "COLA-S"]),
        ("small cola", ["COLA-S"]),
        ("cola small", ["COLA-S"]),
        ("Cola 1.5 L", ["COLA-L"]),
        ("1.5l cola", ["COLA-L"]),
        ("creme fraiche", ["CREME"]),
        ("CRÈME", ["CREME"]),
        ("fraîche crème", ["CREME"]),
        ("tomato", ["TOM"]),
        ("loaves", ["BREAD"]),
        ("eggs free-range", ["EGGS"]),
        ("cans", ["COLA-S"]),  # the container counts as a word
        ("fizzo", ["COLA-L", "COLA-S"]),  # and so does the brand
        ("קולה קטנה", ["COLA-S"]),
        ("קולה קטן", ["COLA-S"]),
        ("חָלָב", ["MILK-1", "MILK-3"]),  # vowel points do not matter
        ("והחלב", ["MILK-1", "MILK-3"]),  # nor prefix letters
        ("ביצה", ["EGGS"]),  # nor plural and singular
        ("pita", ["PITA"]),  # keywords are names too
        ("cola-s", ["COLA-S"]),  # the SKU
        ("nothing like it", []),
    ],
)
def test_search_finds(query: str, expected: list[str]) -> None:
    assert skus(query) == expected


def test_a_whole_name_ranks_above_its_words_above_word_starts_above_typos() -> None:
    base = PRODUCTS[0]
    catalog = [
        replace(base, sku="D", name="Coal briquettes", name_en="", name_he="", keywords=()),
        replace(base, sku="C", name="Colander", name_en="", name_he="", keywords=()),
        replace(base, sku="B", name="Cola zero", name_en="", name_he="", keywords=()),
        replace(base, sku="A", name="Cola", name_en="", name_he="", keywords=()),
    ]
    catalog = [replace(p, brand="", size="", container_type="") for p in catalog]
    hits = search("cola", catalog)
    assert [(h.product.sku, h.rank) for h in hits] == [
        ("A", Rank.EXACT),
        ("B", Rank.WORDS),
        ("C", Rank.PREFIX),
        ("D", Rank.FUZZY),  # "coal" is "cola" with two letters swapped
    ]


def test_category_filters_and_an_empty_query_lists_the_category_in_order() -> None:
    assert skus("", category="drinks") == ["COLA-S", "COLA-L"]
    assert skus("cola", category="Drinks") == ["COLA-L", "COLA-S"]
    assert skus("cola", category="bakery") == []
    assert skus("", category="vegetables") == ["TOM", "ONION"]
    assert skus("", category="dairy") == ["MILK-1", "MILK-3", "EGGS", "CREME"]  # the aisle
    assert skus("") == [p.sku for p in PRODUCTS]
    assert len(search("", PRODUCTS, limit=3)) == 3


def test_nearest_suggests_what_comes_close() -> None:
    assert [p.sku for p in nearest("chocolat cak", PRODUCTS)] == ["CAKE"]
    assert [p.sku for p in nearest("colla", PRODUCTS)][:2] == ["COLA-L", "COLA-S"]
    assert nearest("xyzzy", PRODUCTS) == []
    assert nearest("", PRODUCTS) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Took 3 Small COLA", ["took", "3", "small", "cola"]),
        ("330ml", ["330", "ml"]),
        ("1,5 l", ["1.5", "l"]),
        ('קולה 330 מ"ל', ["קולה", "330", "מל"]),
        ("לחם", ["לחמ"]),  # a final letter is the same letter
        ("Crème brûlée", ["creme", "brulee"]),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_stems_meet_where_forms_differ() -> None:
    assert keys("loaves tomatoes eggs berries boxes") == keys("loaf tomato egg berry box")
    assert keys("ביצים ביצי ביצה") == ["ביצ"] * 3
    assert keys("פחיות עגבניות") == keys("פחית עגבניה")
    assert keys("glass bus") == ["glass", "bus"]  # not plurals
    assert fold("ÉCLAIR") == "eclair"


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [("cola", "cola", 0), ("cola", "coal", 1), ("cola", "colla", 1), ("milk", "mlik", 1)],
)
def test_distance(a: str, b: str, edits: int) -> None:
    assert distance(a, b, 3) == edits
    assert distance(a, b + "xyz", 1) == 2  # beyond the limit: limit + 1


def test_a_product_from_code_with_no_descriptions_is_found_by_name() -> None:
    bare = Product("X-1", "Oat drink", "dairy", "l", 100, 80, 5, 1)
    assert [h.product.sku for h in search("drink oat", [bare])] == ["X-1"]

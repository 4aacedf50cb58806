"""Catalog search at scale: the index built once per catalog answers what `search`
answers (the same hits, in the same order), over a generated catalog of thousands of
products in English and Hebrew, and finds what people type: the exact name first,
any accents and word order, a typo after the exact matches, the start of a word."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from autogrocery.config import load_config
from autogrocery.domain.models import Product
from autogrocery.domain.search import Hit, Rank, best, search
from autogrocery.domain.search_index import SearchIndex
from tools.history_catalog import grow_catalog
from tools.search_bench import query_set

SIZE = 3000


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    products = grow_catalog(load_config(env={}).catalog_file, SIZE, random.Random(5))
    # One product to look for, named with accents, in a catalog of thousands.
    target = replace(
        products[1500],
        sku="CRM-77",
        name="Crème fraîche épaisse",
        name_en="Crème fraîche épaisse",
        name_he="שמנת צרפתית סמיכה",
        keywords=(),
    )
    return [*products[:1500], target, *products[1501:]]


@pytest.fixture(scope="module")
def index(catalog: list[Product]) -> SearchIndex:
    return SearchIndex(catalog)


def answer(hits: list[Hit]) -> list[tuple[str, Rank, float]]:
    return [(h.product.sku, h.rank, h.cover) for h in hits]


def test_the_index_answers_what_search_answers(catalog: list[Product], index: SearchIndex) -> None:
    queries = ["cola", "קולה", "co", "colq", "small cola", "cola-s", "cola-0", "והחלב", "xyz"]
    queries += query_set(catalog, 20, seed=11)  # 1-3 words, typos, starts, both languages
    for query in queries:
        for category in (None, "drinks"):
            expected = answer(search(query, catalog, category=category))
            assert answer(index.search(query, category=category)) == expected, query
            assert answer(index.search(query, category=category, limit=5)) == expected[:5]


def test_the_exact_name_comes_first_whatever_the_accents_and_word_order(
    index: SearchIndex,
) -> None:
    for query in ("Crème fraîche épaisse", "creme fraiche epaisse", "EPAISSE fraiche crème"):
        hits = index.search(query)
        assert (hits[0].product.sku, hits[0].rank) == ("CRM-77", Rank.EXACT), query


def test_a_typo_finds_the_product_after_the_exact_matches(index: SearchIndex) -> None:
    hits = index.search("epaise")  # a letter left out
    assert "CRM-77" in [h.product.sku for h in hits]
    ranks = [h.rank for h in hits]
    assert ranks == sorted(ranks)
    assert next(h.rank for h in hits if h.product.sku == "CRM-77") == Rank.FUZZY


def test_hebrew_and_the_start_of_a_word_find_it(index: SearchIndex) -> None:
    assert index.search("סמיכה צרפתית")[0].product.sku == "CRM-77"
    assert "CRM-77" in [h.product.sku for h in index.search("שמנת סמי")]  # as it is typed
    assert "CRM-77" in [h.product.sku for h in index.search("epai", limit=20)]


def test_a_page_is_the_first_of_the_whole_answer(index: SearchIndex) -> None:
    everything = index.search("cola")
    assert len(everything) > 50
    assert answer(index.search("cola", limit=50)) == answer(everything)[:50]


def test_code_handed_the_indexed_products_searches_the_index(
    catalog: list[Product], index: SearchIndex
) -> None:
    products = index.indexed()
    assert list(products) == catalog
    assert answer(search("crème épaisse", products)) == answer(search("crème épaisse", catalog))
    assert [p.sku for p in best("epaisse", products)] == ["CRM-77"]


def test_a_tiny_catalog_ranks_as_search_does() -> None:
    base = Product("A-1", "Cola", "drinks", "can", 100, 80, 5, 1, brand="Fizzo")
    catalog = [
        replace(base, sku="A-1", name="Fizzo cola zero sugar free"),
        replace(base, sku="A-2", name="Cola"),
        replace(base, sku="A-3", name="Lemonade", keywords=("fizzo",)),
    ]
    for query in ("cola", "fizzo", "col", "fizo"):
        assert answer(SearchIndex(catalog).search(query)) == answer(search(query, catalog))

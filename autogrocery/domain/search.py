"""Finding products by what people call them: any name, any language, any word order.

`search("cola small", products)` ranks every product whose words cover the query's:
first a query that is a whole name (or the SKU), then all words found as they are,
then words found as the start of a product's word ("cho" for "chocolate", "BRD" for
"BRD-001"), then
words found with a typo or two. Case, accents, Hebrew vowel points, prefix letters
and plural endings do not matter (`words`). `nearest` is the "did you mean" list for
a query nothing matches.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from autogrocery.domain.models import Product
from autogrocery.domain.words import allowed_typos, distance, fold, keys, variants

# What a container is called, so "cola cans" finds the cola that comes in a can.
CONTAINER_WORDS = {
    "can": ("can", "tin", "פחית"),
    "plastic": ("plastic", "bottle", "בקבוק", "פלסטיק"),
    "glass": ("glass", "bottle", "jar", "זכוכית", "בקבוק", "צנצנת"),
    "bag": ("bag", "שקית"),
    "box": ("box", "carton", "קופסה"),
}


class Rank(IntEnum):
    """How well a product matches; lower is better."""

    EXACT = 0  # the query is one of its names, or its SKU
    WORDS = 1  # every query word is one of its words
    PREFIX = 2  # every query word is one of its words or the start of one
    FUZZY = 3  # every query word is one of its words, a start, or within a typo or two


@dataclass(frozen=True, slots=True)
class Hit:
    product: Product
    rank: Rank
    cover: float  # how much of its best-matching name the query's words cover, 0..1


@dataclass(frozen=True, slots=True)
class _Entry:
    product: Product
    words: frozenset[str]  # every key of every name, the brand, size and container
    names: tuple[frozenset[str], ...]  # each name's keys
    sku: str


class IndexedProducts(list[Product]):
    """Products that come with an index (`search_index.SearchIndex.indexed`): `search`
    over them asks it instead of reading every product. They are described as when the
    index was built; their stock and price are not kept up to date."""

    def __init__(self, products: Iterable[Product], finder: Callable[..., list[Hit]]) -> None:
        super().__init__(products)
        self.finder = finder


def _entry(product: Product) -> _Entry:
    words, names = _keys(product.names, product.brand, product.size, product.container_type)
    return _Entry(product, words, names, fold(product.sku))


def described(
    names: tuple[str, ...], brand: str, size: str, container: str
) -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """A product's words (every key of every name, the brand, size and container) and
    each name's keys."""
    each = tuple(frozenset(keys(name)) for name in names)
    extra = [brand, size, *CONTAINER_WORDS.get(container, ())]
    return frozenset().union(*each, *(keys(text) for text in extra)), each


# By what is said of a product, not its stock or price.
_keys = functools.lru_cache(maxsize=8192)(described)


def _match(key: str, words: frozenset[str]) -> Rank | None:
    """How one query word is found among a product's words, if it is."""
    forms = variants(key)
    if any(form in words for form in forms):
        return Rank.WORDS
    if any(starts(w, form) for form in forms for w in words):
        return Rank.PREFIX
    for form in forms:
        typos = allowed_typos(form)
        if typos and any(distance(form, w, typos) <= typos for w in words):
            return Rank.FUZZY
    return None


def starts(word: str, form: str) -> bool:
    """`form` begins `word`: two letters at least, and never part of a number."""
    return len(form) >= 2 and not form[:1].isdecimal() and word.startswith(form)


def cover(query: set[str], names: Sequence[frozenset[str]]) -> float:
    return max((len(query & name) / len(name) for name in names if name), default=0.0)


def search(
    query: str,
    products: Iterable[Product],
    *,
    category: str | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Products matching every word of `query`, best first (an empty query matches all,
    in the given order); only those of `category` when one is given."""
    if isinstance(products, IndexedProducts):
        return products.finder(query, category=category, limit=limit)
    wanted = fold(category).strip() if category else None
    pool = [p for p in products if wanted is None or fold(p.category) == wanted]
    query_keys = keys(query)
    if not query_keys:
        return [Hit(p, Rank.WORDS, 0.0) for p in pool][:limit]
    asked = set(query_keys)
    whole = fold(query).strip()
    hits = []
    for entry in map(_entry, pool):
        ranks = [_match(key, entry.words) for key in query_keys]
        found = None if None in ranks else max(r for r in ranks if r is not None)
        if found == Rank.WORDS and any(asked == set(name) for name in entry.names):
            found = Rank.EXACT
        if whole == entry.sku:
            found = Rank.EXACT
        elif len(whole) >= 3 and entry.sku.startswith(whole):
            found = min(found if found is not None else Rank.PREFIX, Rank.PREFIX)
        if found is not None:
            hits.append(Hit(entry.product, found, cover(asked, entry.names)))
    hits.sort(key=lambda h: (h.rank, -h.cover, fold(h.product.name), h.product.sku))
    return hits[:limit]


def best(query: str, products: Iterable[Product]) -> list[Product]:
    """The products of the best rank that matches: one when the query is clear."""
    hits = search(query, products)
    return [h.product for h in hits if h.rank == hits[0].rank] if hits else []


def nearest(query: str, products: Iterable[Product], n: int = 3) -> list[Product]:
    """Up to `n` products whose words come closest to the query's, for "did you mean"."""
    query_keys = keys(query)
    if not query_keys:
        return []
    scored = []
    for entry in map(_entry, products):
        alike = [_likeness(key, entry.words) for key in query_keys]
        score = sum(alike) / len(alike)
        if max(alike) >= 0.75 and score >= 0.4:  # one word close, and the rest not far
            scored.append((score, entry.product))
    scored.sort(key=lambda s: (-s[0], fold(s[1].name), s[1].sku))
    return [product for _, product in scored[:n]]


def _likeness(key: str, words: frozenset[str]) -> float:
    """1.0 for the same word, 0.9 for the start of one, else how few edits apart (below
    half alike counts as nothing, which lets the edit count stop early)."""
    best_seen = 0.0
    for form in variants(key):
        for word in words:
            if form == word:
                return 1.0
            if starts(word, form):
                best_seen = max(best_seen, 0.9)
                continue
            longest = max(len(form), len(word))
            limit = longest // 2
            edits = distance(form, word, limit)
            if edits <= limit:
                best_seen = max(best_seen, 1 - edits / longest)
    return best_seen

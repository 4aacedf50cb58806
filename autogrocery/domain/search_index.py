"""`search`'s answers from an index built once per catalog: the same hits, in the same
order, without reading every product for every query.

The index maps each word to the products that have it, keeps the words sorted (a query
word's starts are a range of them) and every word's forms with one or two letters left
out (two words within a typo or two share one: a typo is looked up, not searched for);
only the words so found are compared letter by letter. It holds what describes the
products (names, brand, size, container, category), not their stock or price, so it
is built again only when a product is added or described anew.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence

from autogrocery.domain.models import Product
from autogrocery.domain.search import Hit, IndexedProducts, Rank, described, starts
from autogrocery.domain.words import allowed_typos, distance, fold, keys, variants

MAX_TYPOS = 2  # the most `allowed_typos` gives any word
IN_NO_NAME = 1 << 30  # a word's "shortest name" when it is only a brand, size or container


Name = tuple[str, ...]  # a name's keys, each once, sorted


class SearchIndex:
    """The catalog's products by their words. Ids are the positions in `products`."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products: list[Product] = list(products)
        # Each word's products as a query of that word alone ranks them: by the share of
        # a name it covers (the shortest name it is in), then by name; one int each.
        count = len(self.products)
        ranked: dict[str, list[int]] = {}
        for pid, words in enumerate(self._describe()):
            shortest = dict.fromkeys(words, IN_NO_NAME)
            for name in self.names[pid]:
                for word in name:
                    shortest[word] = min(shortest[word], len(name))
            for word, length in shortest.items():
                ranked.setdefault(word, []).append(length * count + self.order[pid])
        by_order = _places(self.order)  # the product at each place by name
        # Tuples, not lists, from here on: a tuple of ints or strings drops out of the
        # cyclic collector's sight, where these lists made each full collection walk
        # every posting (250 ms at 50,000 SKUs, holding the GIL: a tenth of the store's
        # time under load).
        self.postings: dict[str, tuple[int, ...]] = {}
        for word, places in ranked.items():
            places.sort()
            self.postings[word] = tuple([by_order[place % count] for place in places])
        self.vocabulary: list[str] = sorted(self.postings)
        near: dict[str, list[str]] = {}
        for word in self.vocabulary:
            for form in omissions(word, MAX_TYPOS):
                near.setdefault(form, []).append(word)
        self.near: dict[str, tuple[str, ...]] = {form: tuple(words) for form, words in near.items()}

    def _describe(self) -> Iterator[frozenset[str]]:
        """Keep what ranks the products (names, category, SKU, order by name); yield
        each one's words."""
        self.order = _places(sorted(range(len(self.products)), key=self._name_order))
        self.names: list[tuple[Name, ...]] = []
        self.categories: list[str] = []
        self.by_name: dict[Name, tuple[int, ...]] = {}  # a name is seldom shared
        self.by_sku: dict[str, int] = {}
        once: dict[str, str] = {}  # one string for each category, not one per product
        for pid, product in enumerate(self.products):
            words, names = described(
                product.names, product.brand, product.size, product.container_type
            )
            keyed = tuple(dict.fromkeys(tuple(sorted(name)) for name in names))
            self.names.append(keyed)
            category = fold(product.category).strip()
            self.categories.append(once.setdefault(category, category))
            self.by_sku[fold(product.sku)] = pid
            for name in keyed:
                self.by_name[name] = (*self.by_name.get(name, ()), pid)
            yield words
        self.skus: list[str] = sorted(self.by_sku)

    def _cover(self, asked: set[str], pid: int) -> float:
        """How much of its best-matching name the query's words cover (`search.cover`)."""
        return max(
            (len(asked.intersection(name)) / len(name) for name in self.names[pid] if name),
            default=0.0,
        )

    def indexed(self) -> IndexedProducts:
        """The products, for code that takes a list and calls `search.search` on it."""
        return IndexedProducts(self.products, self.search)

    def _name_order(self, pid: int) -> tuple[str, str]:
        product = self.products[pid]
        return fold(product.name), product.sku

    def search(
        self, query: str, *, category: str | None = None, limit: int | None = None
    ) -> list[Hit]:
        """What `search.search(query, products, category=…, limit=…)` answers."""
        wanted = fold(category).strip() if category else None
        query_keys = keys(query)
        if not query_keys:
            pool = (
                pid
                for pid in range(len(self.products))
                if wanted is None or self.categories[pid] == wanted
            )
            return [
                Hit(self.products[pid], Rank.WORDS, 0.0) for pid in itertools.islice(pool, limit)
            ]
        by_rank = self._found(query_keys, fold(query).strip())
        if wanted is not None:
            for pids in by_rank.values():
                pids -= {pid for pid in pids if self.categories[pid] != wanted}
        return self._ranked(by_rank, set(query_keys), limit)

    def _found(self, query_keys: Sequence[str], whole: str) -> dict[Rank, set[int]]:
        """The products every query word finds, by the worst rank of their words. The
        word that finds the fewest is looked up first; the others only among those."""
        found: dict[Rank, set[int]] | None = None
        for words in sorted(map(self._words, set(query_keys)), key=self._reach):
            if found is None:
                found = self._ranks(words, None)
                continue
            both = set().union(*found.values())
            ranks = self._ranks(words, both)
            both &= set().union(*ranks.values())
            fuzzy = both & (found[Rank.FUZZY] | ranks[Rank.FUZZY])
            prefix = both & (found[Rank.PREFIX] | ranks[Rank.PREFIX]) - fuzzy
            found = {Rank.WORDS: both - fuzzy - prefix, Rank.PREFIX: prefix, Rank.FUZZY: fuzzy}
        assert found is not None  # noqa: S101 (query_keys is never empty here)
        return self._settled(found, query_keys, whole)

    def _settled(
        self, found: dict[Rank, set[int]], query_keys: Sequence[str], whole: str
    ) -> dict[Rank, set[int]]:
        """`found` with the exact matches (a name of just the query's words, or the SKU)
        and the SKUs the query starts, each product in its best rank only."""
        found[Rank.EXACT] = set(self.by_name.get(tuple(sorted(set(query_keys))), ()))
        exact = self.by_sku.get(whole)
        if exact is not None:
            found[Rank.EXACT].add(exact)
        if len(whole) >= 3:
            starting = {self.by_sku[sku] for sku in _starting(self.skus, whole)} - {exact}
            starting -= found[Rank.EXACT] | found[Rank.WORDS]
            found[Rank.FUZZY] -= starting
            found[Rank.PREFIX] |= starting
        for rank in (Rank.WORDS, Rank.PREFIX, Rank.FUZZY):
            found[rank] -= found[Rank.EXACT]
        return found

    def _words(self, key: str) -> tuple[set[str], set[str], set[str]]:
        """The catalog's words a query word finds: as they are, by their start, with a
        typo (in any of its forms; each word in the best way it is found)."""
        forms = variants(key)
        words = {form for form in forms if form in self.postings}
        starting = {
            word
            for form in forms
            if starts(form, form)
            for word in _starting(self.vocabulary, form)
        }
        typos = {word for form in forms for word in self._within(form, allowed_typos(form))}
        return words, starting - words, typos - words - starting

    def _reach(self, words: tuple[set[str], set[str], set[str]]) -> int:
        return sum(len(self.postings[word]) for group in words for word in group)

    def _ranks(
        self, words: tuple[set[str], set[str], set[str]], among: set[int] | None
    ) -> dict[Rank, set[int]]:
        """The products (of `among`, if given) the words find, by their best rank."""

        def having(group: set[str]) -> set[int]:
            if among is None:
                return set().union(*(self.postings[word] for word in group))
            return set().union(*(among.intersection(self.postings[word]) for word in group))

        found = having(words[0])
        prefix = having(words[1]) - found
        return {
            Rank.WORDS: found,
            Rank.PREFIX: prefix,
            Rank.FUZZY: having(words[2]) - found - prefix,
        }

    def _within(self, form: str, typos: int) -> set[str]:
        """The words at most `typos` edits from `form`."""
        if not typos:
            return set()
        alike = {word for omitted in omissions(form, typos) for word in self.near.get(omitted, ())}
        return {word for word in alike if distance(form, word, typos) <= typos}

    def _ranked(
        self, by_rank: dict[Rank, set[int]], asked: set[str], limit: int | None
    ) -> list[Hit]:
        """Best first: by rank, then how much of a name the query covers, then by name;
        the ranks after a full page are not sorted."""
        hits: list[Hit] = []
        for rank in sorted(by_rank):
            wanted = None if limit is None else limit - len(hits)
            if wanted is not None and wanted <= 0:
                break
            hits.extend(
                Hit(self.products[pid], rank, cost)
                for pid, cost in self._sorted(by_rank[rank], asked, wanted)
            )
        return hits

    def _sorted(
        self, pids: set[int], asked: set[str], wanted: int | None
    ) -> list[tuple[int, float]]:
        """The first `wanted` of `pids` by how much of a name `asked` covers, then by name."""
        if len(asked) == 1 and len(pids) > 64:  # a common word alone: ranked when built
            (key,) = asked
            covered: list[tuple[int, float]] = []
            for pid in self.postings.get(key, ()):
                if wanted is not None and len(covered) >= wanted:
                    return covered
                share = self._cover(asked, pid)
                if not share:
                    break
                if pid in pids:
                    covered.append((pid, share))
            rest = pids - {pid for pid, _ in covered}
            count = None if wanted is None else wanted - len(covered)
            firsts = (
                heapq.nsmallest(count, rest, key=self.order.__getitem__)
                if count is not None
                else sorted(rest, key=self.order.__getitem__)
            )
            return covered + [(pid, 0.0) for pid in firsts]
        ordered = sorted((-self._cover(asked, pid), self.order[pid], pid) for pid in pids)
        return [(pid, -minus) for minus, _, pid in ordered[:wanted]]


def _places(ordered: list[int]) -> list[int]:
    """Each id's place in `ordered`."""
    places = [0] * len(ordered)
    for place, pid in enumerate(ordered):
        places[pid] = place
    return places


def _starting(words: Sequence[str], start: str) -> Iterator[str]:
    """The sorted `words` that begin with `start`."""
    for word in itertools.islice(words, bisect.bisect_left(words, start), None):
        if not word.startswith(start):
            return
        yield word


def omissions(word: str, most: int) -> set[str]:
    """`word` with up to `most` of its letters left out."""
    found = {word}
    last = {word}
    for _ in range(most):
        last = {w[:i] + w[i + 1 :] for w in last for i in range(len(w))}
        found |= last
    return found

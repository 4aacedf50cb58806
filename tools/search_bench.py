"""Catalog search at supermarket size: each design's build time, memory and latency on
one query set.

    python -m tools.search_bench --design index --size 50000
    python -m tools.search_bench --design fts --size 50000
    python -m tools.search_bench --design scan --size 50000 --queries 20

The catalog is the shipped one grown to `--size` (`tools.history_catalog`, seed 23).
The query set (`query_set`, seed 7): `--queries` queries, half from a product's
English name, half from its Hebrew one; 1-3 of the name's words in a shuffled order;
one in ten with a typo (a letter left out, doubled or swapped with the next, in a word
of five letters or more); one in ten with its last word cut to its first three
letters (as-you-type); one in ten in upper case. Designs:

- `scan`: `domain.search.search`, every product ranked for every query (today's);
- `index`: `domain.search_index.SearchIndex`, in memory;
- `fts`: SQLite FTS5 (unicode61 remove_diacritics 2) in an in-memory database for
  words and prefixes, a table of the vocabulary's one- and two-letter omissions for
  typos, ranked in Python as `index` ranks.

Each process measures one design: RSS is the process's own, before and after the build.
"""

from __future__ import annotations

import argparse
import gc
import random
import sqlite3
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from autogrocery.config import load_config
from autogrocery.domain.models import Product
from autogrocery.domain.search import Hit, Rank, search, starts
from autogrocery.domain.search_index import (
    MAX_TYPOS,
    SearchIndex,
    omissions,
)
from autogrocery.domain.words import allowed_typos, distance, tokens, variants
from tools.history_catalog import grow_catalog


def query_set(products: list[Product], count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 (a repeatable query set)
    queries: list[str] = []
    while len(queries) < count:
        product = rng.choice(products)
        name = product.name_he if len(queries) % 2 else product.name_en
        words = [w for w in tokens(name) if not w[:1].isdecimal()] or tokens(name)
        if not words:
            continue
        chosen = rng.sample(words, rng.randint(1, min(3, len(words))))
        roll = rng.random()
        if roll < 0.1:
            chosen = _typo(chosen, rng)
        elif roll < 0.2 and len(chosen[-1]) > 3:
            chosen[-1] = chosen[-1][:3]
        elif roll < 0.3:
            chosen = [w.upper() for w in chosen]
        queries.append(" ".join(chosen))
    return queries


def _typo(words: list[str], rng: random.Random) -> list[str]:
    long = [i for i, w in enumerate(words) if len(w) >= 5]
    if not long:
        return words
    i = rng.choice(long)
    word, at = words[i], rng.randrange(1, len(words[i]) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        word = word[:at] + word[at + 1 :]
    elif kind == 1:
        word = word[:at] + word[at] + word[at:]
    else:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return [*words[:i], word, *words[i + 1 :]]


class FtsSearch(SearchIndex):
    """`SearchIndex`'s ranking over words, starts and typos looked up in SQLite FTS5."""

    def __init__(self, products: list[Product]) -> None:
        self.products = products
        db = sqlite3.connect(":memory:")
        db.execute(
            "CREATE VIRTUAL TABLE words USING fts5(w, tokenize="
            "\"unicode61 remove_diacritics 2 tokenchars '.'\", prefix='2 3', detail=none)"
        )
        rows = [(pid, " ".join(words)) for pid, words in enumerate(self._describe())]
        db.executemany("INSERT INTO words(rowid, w) VALUES (?, ?)", rows)
        db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(words, row)")
        db.execute("CREATE TABLE near(omitted TEXT, word TEXT)")
        vocabulary = [term for (term,) in db.execute("SELECT term FROM vocab")]
        db.executemany(
            "INSERT INTO near VALUES (?, ?)",
            ((form, word) for word in vocabulary for form in omissions(word, MAX_TYPOS)),
        )
        db.execute("CREATE INDEX near_omitted ON near(omitted)")
        self.db = db

    def _sorted(
        self, pids: set[int], asked: set[str], wanted: int | None
    ) -> list[tuple[int, float]]:
        """Every hit's cover computed per query (no word's products ranked when built)."""
        ordered = sorted((-self._cover(asked, pid), self.order[pid], pid) for pid in pids)
        return [(pid, -minus) for minus, _, pid in ordered[:wanted]]

    def _rowids(self, match: str) -> list[int]:
        return [
            r for (r,) in self.db.execute("SELECT rowid FROM words WHERE words MATCH ?", (match,))
        ]

    def _found(self, query_keys: Sequence[str], whole: str) -> dict[Rank, set[int]]:
        """Each query word looked up in full (FTS5 answers one MATCH at a time)."""
        found: dict[Rank, set[int]] | None = None
        for key in set(query_keys):
            ranks = self._key_ranks(key)
            if found is None:
                found = ranks
                continue
            both = set().union(*found.values()) & set().union(*ranks.values())
            fuzzy = both & (found[Rank.FUZZY] | ranks[Rank.FUZZY])
            prefix = both & (found[Rank.PREFIX] | ranks[Rank.PREFIX]) - fuzzy
            found = {Rank.WORDS: both - fuzzy - prefix, Rank.PREFIX: prefix, Rank.FUZZY: fuzzy}
        assert found is not None  # noqa: S101
        return self._settled(found, query_keys, whole)

    def _key_ranks(self, key: str) -> dict[Rank, set[int]]:
        forms = variants(key)
        found = set(self._rowids(" OR ".join(map(_quoted, forms))))
        starting = [_quoted(form) + "*" for form in forms if starts(form, form)]
        prefix = set(self._rowids(" OR ".join(starting))) - found if starting else set()
        close: set[str] = set()
        for form in forms:
            typos = allowed_typos(form)
            if not typos:
                continue
            omitted = list(omissions(form, typos))
            marks = ",".join("?" * len(omitted))
            alike = self.db.execute(
                f"SELECT DISTINCT word FROM near WHERE omitted IN ({marks})",  # noqa: S608 (only ?s)
                omitted,
            )
            close |= {w for (w,) in alike if distance(form, w, typos) <= typos}
        fuzzy = set(self._rowids(" OR ".join(map(_quoted, close)))) if close else set()
        return {Rank.WORDS: found, Rank.PREFIX: prefix, Rank.FUZZY: fuzzy - found - prefix}


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", choices=("scan", "index", "fts"), required=True)
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2, help="the last one is timed")
    args = parser.parse_args()
    products = grow_catalog(load_config(env={}).catalog_file, args.size, random.Random(23))  # noqa: S311
    queries = query_set(products, args.queries)
    gc.collect()
    before = rss_kb()
    started = time.perf_counter()
    index: SearchIndex | None = None
    if args.design == "index":
        index = SearchIndex(products)
    elif args.design == "fts":
        index = FtsSearch(products)
    built = time.perf_counter() - started
    gc.collect()
    grown = rss_kb() - before
    for _ in range(args.rounds - 1):  # warm: the words' caches, the allocator
        for query in queries:
            index.search(query, limit=args.limit) if index is not None else None
    times, found = [], 0
    for query in queries:
        began = time.perf_counter()
        hits: list[Hit] = (
            index.search(query, limit=args.limit)
            if index is not None
            else search(query, products, limit=args.limit)
        )
        times.append((time.perf_counter() - began) * 1000)
        found += bool(hits)
    times.sort()
    p99 = times[min(len(times) - 1, round(len(times) * 0.99) - 1)]
    print(
        f"design={args.design} size={args.size} queries={len(queries)} limit={args.limit} "
        f"build_s={built:.2f} rss_delta_mb={grown / 1024:.1f} found={found} "
        f"p50_ms={statistics.median(times):.2f} p99_ms={p99:.2f} max_ms={times[-1]:.2f}"
    )


if __name__ == "__main__":
    main()

"""Words for matching what people type against product names, in English and Hebrew.

`tokens` folds case and accents (Hebrew vowel points too), splits words from
numbers ("330ml" → "330", "ml"), and drops quote marks inside words (מ"ל, don't).
`stem` maps the forms of a word to one key, the same for the query and the names:
English plurals ("loaves" → "loaf"), Hebrew plural, feminine and "of" endings
("ביצים", "ביצה", "ביצי" → "ביצ") with final letters made regular. It is a matching
key, not grammar.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_FINALS = str.maketrans("ךםןףץ", "כמנפצ")
_TO_FINAL = {"כ": "ך", "מ": "ם", "נ": "ן", "פ": "ף", "צ": "ץ"}
_QUOTES = dict.fromkeys(map(ord, "'\"`’‘׳״"), None)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")
HEBREW_PREFIXES = ("ו", "ה", "ב", "ל", "מ", "ש", "כ")


def fold(text: str) -> str:
    """Lower case, no accents or vowel points, regular Hebrew letters, no quote marks."""
    if text.isascii():  # nothing to decompose: the catalog's English names, fast
        return text.lower().translate(_QUOTES)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii() or max(decomposed) <= "\uffff":  # one C call, not one per letter
        bare = decomposed.translate(_marks())
    else:
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_QUOTES).translate(_FINALS)


@functools.cache
def _marks() -> dict[int, None]:
    """The combining marks (accents, vowel points) of the Basic Multilingual Plane."""
    return {code: None for code in range(0x300, 0x10000) if unicodedata.combining(chr(code))}


def display(text: str) -> str:
    """Folded words as they are written: a Hebrew word ends in its final letter."""
    return re.sub(r"[כמנפצ](?![\u0590-\u05ff])", lambda m: _TO_FINAL[m[0]], text)


def tokens(text: str) -> list[str]:
    """The folded words and numbers of `text`, in order ("1,5" is read as "1.5")."""
    return [t.replace(",", ".") for t in _TOKEN.findall(fold(text))]


def is_hebrew(token: str) -> bool:
    return any("\u0590" <= c <= "\u05ff" for c in token)


@functools.lru_cache(maxsize=65_536)  # a catalog's words are few: index builds repeat them
def stem(token: str) -> str:
    """The matching key of one folded token."""
    if token[:1].isdecimal():
        return token
    if is_hebrew(token):
        return _stem_hebrew(token)
    return _stem_english(token)


def _stem_hebrew(word: str) -> str:
    if len(word) >= 4 and word.endswith(("ימ", "ות")):
        return word[:-2]
    if len(word) >= 4 and word.endswith("ית"):
        return word[:-1]  # פחית and פחיות both become פחי
    if len(word) >= 3 and word.endswith("ה"):
        return word[:-1]
    if len(word) >= 4 and word.endswith("י"):
        return word[:-1]  # the "of" form: ביצי חופש, תפוחי אדמה
    return word


def _stem_english(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ves") and len(word) > 4:
        return word[:-3] + "f"  # loaves → loaf
    if word.endswith(("oes", "xes", "ches", "shes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def keys(text: str) -> list[str]:
    """The stems of `text`'s tokens."""
    return [stem(t) for t in tokens(text)]


def variants(key: str) -> tuple[str, ...]:
    """`key` and, for a Hebrew word, the word without the one or two prefix letters
    (ו, ה, ב, ל, מ, ש, כ) it may carry: "והחלב" also tries "החלב" and "חלב"."""
    if not is_hebrew(key):
        return (key,)
    found = [key]
    for _ in range(2):
        last = found[-1]
        if len(last) > 3 and last.startswith(HEBREW_PREFIXES):
            found.append(last[1:])
    return tuple(found)


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent swaps (optimal string alignment), or `limit + 1`
    as soon as it is known to be above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    # One edit changes the letters used by at most two (a substitution): a quick bound.
    if len(set(a) ^ set(b)) > 2 * limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        low = i
        for j, cb in enumerate(b, 1):
            cost = row[j - 1] + (ca != cb)
            if row[j] + 1 < cost:
                cost = row[j] + 1
            if current[j - 1] + 1 < cost:
                cost = current[j - 1] + 1
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and before[j - 2] + 1 < cost:
                cost = before[j - 2] + 1
            current.append(cost)
            if cost < low:
                low = cost
        if low > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def allowed_typos(key: str) -> int:
    """How many edits a word of this length may have and still be taken for another."""
    if len(key) <= 3 or key[:1].isdecimal():
        return 0
    return 1 if len(key) <= 6 else 2

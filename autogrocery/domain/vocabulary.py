"""The words of stock commands in plain words, in English and Hebrew.

Each list is written as people type it; `_folded` turns it into the form `words.tokens`
produces (lower case, Hebrew final letters made regular), which is how it is looked up.
"""

from __future__ import annotations

from collections.abc import Iterable

from autogrocery.domain.models import MovementType
from autogrocery.domain.words import tokens


def _folded(phrases: Iterable[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(tokens(p)) for p in phrases)


def _single(words: Iterable[str]) -> frozenset[str]:
    return frozenset(t for w in words for t in tokens(w))


# What happened to the stock. Phrases of several words are looked for first.
ACTIONS: dict[MovementType, frozenset[tuple[str, ...]]] = {
    MovementType.OUT: _folded(
        [
            *("took", "take", "taken", "taking", "used", "use", "using", "removed", "remove"),
            *("pulled", "grabbed", "consumed"),
            *("לקחתי", "לקחנו", "לקח", "לקחה", "לקחו", "נלקח", "נלקחו", "קח"),
            *("הוצאתי", "הוצאנו", "הוציא", "הוציאו", "השתמשתי", "השתמשנו", "השתמשו"),
        ]
    ),
    MovementType.WASTE: _folded(
        [
            *("threw away", "threw out", "throw away", "throw out", "thrown away", "thrown out"),
            *("tossed", "binned", "wasted", "waste", "spoiled", "spoilt", "discarded"),
            *("discard", "dumped", "trashed", "expired", "went off", "gone off"),
            *("זרקתי", "זרקנו", "זרק", "זרקה", "זרקו", "נזרק", "נזרקו", "לזרוק"),
            *("התקלקל", "התקלקלו", "הלך לפח", "הלכו לפח", "פג תוקף"),
        ]
    ),
    MovementType.COUNT: _folded(
        [
            *("counted", "count", "recounted", "recount", "there are", "there is"),
            *("we have", "i have", "have", "stocktake"),
            *("ספרתי", "ספרנו", "ספר", "ספרו", "ספירה", "יש", "נשארו", "נשאר", "יש לנו"),
        ]
    ),
    MovementType.IN: _folded(
        [
            *("got", "received", "receive", "receiving", "delivered", "delivery", "added"),
            *("add", "restocked", "came in", "arrived", "brought in", "bought", "put away"),
            *("קיבלתי", "קיבלנו", "קבלנו", "קבלתי", "הגיעו", "הגיע", "הכנסתי", "הכנסנו"),
            *("הוספתי", "הוספנו", "קנינו", "קניתי"),
        ]
    ),
}
LONGEST_ACTION = max(len(p) for phrases in ACTIONS.values() for p in phrases)

# A quantity's unit: the box a product is delivered in, or single units.
BOXES = _single(
    [
        *("box", "boxes", "case", "cases", "crate", "crates", "carton", "cartons"),
        *("ארגז", "ארגזים", "קרטון", "קרטונים", "מארז", "מארזים"),
    ]
)
UNITS = _single(
    [
        *("unit", "units", "piece", "pieces", "pcs", "pc", "item", "items", "each", "single"),
        *("singles", "loaf", "loaves", "kg", "kilo", "kilos", "kilogram", "kilograms"),
        *("litre", "litres", "liter", "liters", "dozen", "pack", "packs", "packet", "packets"),
        *("יחידה", "יחידות", "בודדים", "בודדות", "קילו", "ליטר", "ליטרים", "חבילה", "חבילות"),
        *("dozens", "kilogramme", "kilogrammes", "תריסר", "תריסרים"),
    ]
)
# Units a product may be stocked by that a count of pieces is not ("took 10 onions" is
# not 10 kg, "counted 40 eggs" not 40 dozen), by the words that name them. A command for
# such a product that names none of these is asked about (litres are left out: our
# litre products come in 1 l packs, so 2 milk is 2 l).
MEASURES: dict[str, str] = {
    token: unit
    for unit, words in (
        ("kg", ("kg", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes")),
        ("kg", ("קילו",)),
        ("dozen", ("dozen", "dozens", "תריסר", "תריסרים")),
    )
    for word in words
    for token in tokens(word)
}
# Units that also say what the product comes in ("3 cans of cola": the cola in cans).
CONTAINER_UNITS = _single(
    [
        *("bottle", "bottles", "can", "cans", "tin", "tins", "jar", "jars", "bag", "bags"),
        *("בקבוק", "בקבוקים", "פחית", "פחיות", "שקית", "שקיות", "צנצנת", "צנצנות"),
    ]
)

NUMBERS: dict[str, int] = {
    t: n
    for words, n in (
        (("zero", "none", "אפס"), 0),
        (("one", "אחד", "אחת"), 1),
        (("two", "couple", "שניים", "שתיים", "שני", "שתי", "שנים"), 2),
        (("three", "שלוש", "שלושה"), 3),
        (("four", "ארבע", "ארבעה"), 4),
        (("five", "חמש", "חמישה"), 5),
        (("six", "שש", "שישה"), 6),
        (("seven", "שבע", "שבעה"), 7),
        (("eight", "שמונה"), 8),
        (("nine", "תשע", "תשעה"), 9),
        (("ten", "עשר", "עשרה"), 10),
        (("eleven",), 11),
        (("twelve", "dozen"), 12),
        (("fifteen",), 15),
        (("twenty", "עשרים"), 20),
        (("thirty", "שלושים"), 30),
        (("forty", "ארבעים"), 40),
        (("fifty", "חמישים"), 50),
        (("hundred", "מאה"), 100),
    )
    for w in words
    for t in tokens(w)
}
ARTICLES = _single(["a", "an"])  # "a box of cola": one box

# Words that say nothing about the product.
FILLER = _single(
    [
        *("i", "we", "he", "she", "they", "you", "someone", "just", "the", "of", "some"),
        *("please", "pls", "from", "for", "to", "in", "on", "at", "out", "away", "it"),
        *("them", "off", "x", "and", "today", "now", "this", "that", "these", "those"),
        *("my", "our", "all", "more", "another", "shelf", "shelves", "stock", "store"),
        *("fridge", "back", "was", "were", "been", "has", "had", "about", "around"),
        *("thanks", "thank", "one", "תודה"),
        *("של", "את", "אני", "אנחנו", "הוא", "היא", "הם", "עכשיו", "היום", "בבקשה"),
        *("עוד", "גם", "רק", "כל", "המלאי", "מהמלאי", "מלאי", "מהמדף", "מדף", "מהמקרר"),
    ]
)

YES = _single(
    [
        *("yes", "y", "yeah", "yep", "ok", "okay", "sure", "confirm", "right", "correct"),
        *("כן", "נכון", "בסדר", "אישור", "אוקיי", "יאפ", "סבבה", "מאשר", "מאשרת"),
    ]
)
CANCEL = _folded(
    [
        *("no", "n", "nope", "cancel", "stop", "abort", "never mind", "nevermind"),
        *("forget it", "לא", "בטל", "ביטול", "עזוב", "תבטל", "לבטל", "עזבי"),
    ]
)

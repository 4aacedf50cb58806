"""Reading a stock command typed in plain words: "took 3 small cola", "threw away 2
milk", "counted 40 eggs", "got 5 boxes of cola cans", "לקחתי 3 קולה קטן".

`parse` finds the action (OUT, WASTE, COUNT or IN), the quantity and its unit (boxes
or single units) and leaves the rest as the product's words; it does not look at the
catalog. The small readers below it understand answers to the questions the
conversation asks back (a yes, a cancel, a number, boxes or units).
"""

from __future__ import annotations

from dataclasses import dataclass

from autogrocery.domain.models import MovementType
from autogrocery.domain.vocabulary import (
    ACTIONS,
    ARTICLES,
    BOXES,
    CANCEL,
    CONTAINER_UNITS,
    FILLER,
    LONGEST_ACTION,
    NUMBERS,
    UNITS,
    YES,
)
from autogrocery.domain.words import display, is_hebrew, tokens

MAX_TEXT = 300  # characters of a command or an answer


@dataclass(frozen=True, slots=True)
class Parsed:
    action: MovementType | None
    quantity: int | None  # None: not said
    boxes: bool | None  # True: boxes; False: single units; None: not said
    words: str  # what is left to name the product, space-separated
    hints: tuple[str, ...] = ()  # the unit said ("cans", "loaves"): may tell products apart
    fraction: bool = False  # a quantity was given that is not a whole number
    language: str = "en"


def language(text: str) -> str:
    return "he" if any(is_hebrew(t) for t in tokens(text)) else "en"


def _number(token: str) -> int | float | None:
    if not token:
        return None
    if token[:1].isdecimal():
        return float(token) if "." in token else int(token)
    return NUMBERS.get(token)


def _actions(found: list[str]) -> tuple[MovementType | None, list[str]]:
    """The first action phrase in the words, and the words without any action phrase."""
    action: MovementType | None = None
    rest: list[str] = []
    i = 0
    while i < len(found):
        for size in range(min(LONGEST_ACTION, len(found) - i), 0, -1):
            phrase = tuple(found[i : i + size])
            kind = next((k for k, phrases in ACTIONS.items() if phrase in phrases), None)
            if kind is not None:
                action = action or kind
                i += size
                break
        else:
            rest.append(found[i])
            i += 1
    return action, rest


def parse(text: str) -> Parsed:
    action, rest = _actions(tokens(text[:MAX_TEXT]))
    quantity: int | None = None
    boxes: bool | None = None
    fraction = False
    words: list[str] = []
    hints: list[str] = []
    i = 0
    while i < len(rest):
        token = rest[i]
        following = rest[i + 1] if i + 1 < len(rest) else ""
        unit_next = following in BOXES or following in UNITS or following in CONTAINER_UNITS
        value = _number(token)
        article = token in ARTICLES and _number(following) is None  # "a cola", "a box of"
        if quantity is None and not fraction and (value is not None or article):
            if isinstance(value, float):
                fraction = True
            else:
                quantity = 1 if value is None else value
            if unit_next:
                boxes = following in BOXES
                if not boxes:
                    hints.append(following)
                i += 1
        elif quantity is None and token in BOXES:  # "ארגז קולה": a box of cola
            quantity, boxes = 1, True
        elif token not in FILLER and token not in ARTICLES:
            words.append(token)
        i += 1
    said = display(" ".join(words))
    return Parsed(action, quantity, boxes, said, tuple(hints), fraction, language(text))


def _plain(text: str) -> tuple[str, ...]:
    return tuple(t for t in tokens(text[:MAX_TEXT]) if t not in FILLER and t not in ARTICLES)


def plain(text: str) -> str:
    """The words of an answer without the filler ("the whole one" → "whole one")."""
    return " ".join(_plain(text))


def is_yes(text: str) -> bool:
    said = _plain(text)
    return bool(said) and all(t in YES for t in said)


def is_cancel(text: str) -> bool:
    return _plain(text) in CANCEL


def amount(text: str) -> tuple[int | None, bool | None]:
    """An answer to "how many?": the number and, if said, boxes or units ("2 boxes")."""
    found = parse(text)
    if found.fraction:
        return None, None
    return found.quantity, found.boxes


def unit_choice(text: str) -> bool | None:
    """An answer to "boxes or units?": True for boxes ("boxes", "1"), False for units
    ("units", "cans", "2"), None when it is neither."""
    said = _plain(text)
    if said in {("1",), ("box",)} or (said and all(t in BOXES for t in said)):
        return True
    if said == ("2",) or (said and all(t in UNITS or t in CONTAINER_UNITS for t in said)):
        return False
    return None

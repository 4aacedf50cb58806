"""Usernames as RFC 8265 compares them, and no mixed-script look-alikes.

`enforce` gives a name's one stored form: the PRECIS UsernameCaseMapped profile (width
mapping, so fullwidth `admin` (U+FF41…) is `admin`; case mapping, so `Admin` is `admin`; NFC;
the IdentifierClass: no spaces, controls, symbols or compatibility characters), by
`precis-i18n`, which tracks the RFCs' derived-property rules for the running Python's
Unicode version (hand-written tables would go stale). On top of it, this store's own
rule: 3-64 characters, letters, digits, '.', '_', '-', '@' (as before).

Then the look-alike rule of Unicode TS #39 ("highly restrictive"): the letters of a name
come from one script, or from one of the CJK combinations that people really write
(Latin + Han + Hiragana + Katakana, Latin + Han + Bopomofo, Latin + Han + Hangul). So
`admin` spelt with a Cyrillic U+0430 for its `a` is refused. Script data comes
from `confusable-homoglyphs` (Unicode's Scripts.txt); digits and punctuation are
Common and go with any script.
"""

from __future__ import annotations

import functools

from autogrocery.domain.errors import ValidationError

ALLOWED_PUNCTUATION = "._-@"
MIN_LENGTH, MAX_LENGTH = 3, 64
NEUTRAL = frozenset({"COMMON", "INHERITED"})
CJK_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
RULE = "3-64 characters: letters, digits, '.', '_', '-', '@'"


def _invalid(message: str) -> ValidationError:
    return ValidationError(f"username: {message}", [{"field": "username", "message": message}])


@functools.cache
def _profile() -> object:
    import precis_i18n

    return precis_i18n.get_profile("UsernameCaseMapped")


def enforce(username: str) -> str:
    """The stored (enforced) form of a username, or ValidationError naming the field."""
    if len(username) > 2 * MAX_LENGTH:  # PRECIS work grows with the input: bound it first
        raise _invalid(RULE)
    try:
        enforced: str = _profile().enforce(username)  # type: ignore[attr-defined]
    except UnicodeError as error:
        reason = str(getattr(error, "reason", "")) or "not a valid username"
        raise _invalid(f"{RULE} ({reason.replace('_', ' ')})") from None
    if not MIN_LENGTH <= len(enforced) <= MAX_LENGTH or not all(
        c.isalnum() or c in ALLOWED_PUNCTUATION for c in enforced
    ):
        raise _invalid(RULE)
    scripts = _scripts(enforced)
    if len(scripts) > 1 and not any(scripts <= mix for mix in CJK_MIXES):
        names = ", ".join(sorted(s.title() for s in scripts))
        raise _invalid(f"letters from more than one script ({names}) look like another name")
    return enforced


def lookup_form(username: str) -> str | None:
    """The stored form to look a login up by; None if no account can have this name."""
    try:
        return enforce(username)
    except ValidationError:
        return None


def _scripts(name: str) -> frozenset[str]:
    from confusable_homoglyphs import categories

    return frozenset(categories.alias(c) for c in name) - NEUTRAL

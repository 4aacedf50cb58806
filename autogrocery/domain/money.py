"""Money is held as integer cents and shown as a decimal string with two places."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_CENTS = 999_999_999_99  # nine digits before the point, two after
# ASCII digits only: `\d` and Decimal also take fullwidth or Arabic-Indic digits, "1_000",
# " 5 " and exponents, and `$` matches before a final newline; fullmatch does not.
_AMOUNT = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<cents>[0-9]+))?")


def parse_money(value: object) -> int:
    """Parse "12.40" (at most 9 digits before the point and 2 after, ASCII only; or an
    int/Decimal) into cents; raise ValueError on anything else."""
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"expected a decimal string like '12.40', got {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"expected a decimal string like '12.40', got {value}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"expected a non-negative amount, got {value}")
    # Before quantize (past 26 digits it raises InvalidOperation) and before any
    # arithmetic (1e999999 * 100 overflows the context): by its exponent alone.
    if amount.adjusted() > 8 or amount * 100 > MAX_CENTS:
        raise ValueError(f"amount too large: {value} (at most {format_money(MAX_CENTS)})")
    if amount != amount.quantize(CENT):
        raise ValueError(f"at most two decimal places, got {value}")
    return int(amount * 100)


def _parse_text(text: str) -> int:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if text.startswith("-") and _AMOUNT.fullmatch(text[1:]):
            raise ValueError(f"expected a non-negative amount, got {text!r}")
        raise ValueError(f"expected a decimal string like '12.40', got {text!r}")
    whole, cents = match["whole"], match["cents"] or ""
    if len(cents) > 2:
        raise ValueError(f"at most two decimal places, got {text!r}")
    if len(whole) > 9:
        raise ValueError(f"amount too large: {text!r} (at most 9 digits before the point)")
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def format_money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def round_cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))

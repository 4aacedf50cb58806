"""Money is held as integer cents and shown as a decimal string with two places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def parse_money(value: object) -> int:
    """Parse "12.40" (or an int/Decimal) into cents; raise ValueError on anything else."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"expected a decimal string like '12.40', got {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"expected a decimal string like '12.40', got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"expected a non-negative amount, got {value!r}")
    # Before quantize: past 26 digits it raises InvalidOperation instead of answering.
    if amount > Decimal(10**9):
        raise ValueError(f"amount too large: {value!r}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"at most two decimal places, got {value!r}")
    return int(amount * 100)


def format_money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def round_cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))

"""Validation for the head office's forms, before anything is sent: a transfer (from,
to, `SKU QUANTITY` lines) and a catalog version's prices (`SKU PRICE` lines). Each
parser returns the request's parts or raises `FormError` with every problem found, one
per line. Whether a SKU exists is the head office's to say (it knows every SKU a store
reported or a catalog version named); its answer is shown in the form.

`Retries` keeps one `Idempotency-Key` per request: sending the same request again
after a lost answer reuses it (the head office then makes nothing twice), a new or
changed one gets a new key."""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterator

from autogrocery.domain.money import format_money
from autogrocery.tui.chain.client import PriceChange, TransferItem
from autogrocery.tui.forms import MAX_LINES, MAX_QUANTITY, FormError, money, whole

TRANSFER_HELP = "one line per item: SKU QUANTITY, e.g. BRD-001 12"
PRICES_HELP = "one line per product: SKU PRICE, e.g. BRD-001 2.40"
MAX_SKU = 200  # characters, as the API takes them


def entries(text: str) -> list[tuple[int, list[str]]]:
    """(line number, words) of each line that is not blank (`;` separates lines too)."""
    found = []
    for number, entry in enumerate(re.split(r"[\n;]", text), start=1):
        words = entry.replace(",", " ").split()
        if words:
            found.append((number, words))
    return found


def sku_lines(text: str, value: str, errors: list[str]) -> Iterator[tuple[str, str, str]]:
    """(`line N: `, SKU, the value's word) of each `SKU VALUE` line; a line of another
    shape, or a SKU longer than the API takes, is added to `errors` instead."""
    for number, words in entries(text):
        where = f"line {number}: "
        if len(words) != 2:
            errors.append(f"{where}expected SKU {value}, got {' '.join(words)!r}")
        elif len(sku := words[0].upper()) > MAX_SKU:
            errors.append(f"{where}a SKU is at most {MAX_SKU} characters")
        else:
            yield where, sku, words[1]


def parse_transfer(
    from_store: object, to_store: object, text: str, stores: Collection[str]
) -> tuple[str, str, list[TransferItem]]:
    errors: list[str] = []
    for name, store in (("from", from_store), ("to", to_store)):
        if not isinstance(store, str) or not store:
            errors.append(f"choose the store to send {name}")
        elif store not in stores:
            errors.append(f"{name}: {store!r} is not a store of the chain")
    if isinstance(from_store, str) and from_store and from_store == to_store:
        errors.append(f"from and to are the same store ({from_store})")
    merged: dict[str, int] = {}
    for where, sku, word in sku_lines(text, "QUANTITY", errors):
        quantity, problem = whole(word, "quantity", low=1, high=MAX_QUANTITY)
        if problem:
            errors.append(where + problem)
            continue
        merged[sku] = merged.get(sku, 0) + (quantity or 0)
    if not merged and not errors:
        errors.append(f"no items: {TRANSFER_HELP}")
    errors.extend(
        f"{sku}: {quantity} in all; at most {MAX_QUANTITY} per transfer"
        for sku, quantity in merged.items()
        if quantity > MAX_QUANTITY
    )
    if len(merged) > MAX_LINES:
        errors.append(f"at most {MAX_LINES} SKUs per transfer")
    if errors:
        raise FormError("\n".join(errors))
    items: list[TransferItem] = [
        {"sku": sku, "quantity": quantity} for sku, quantity in merged.items()
    ]
    return str(from_store), str(to_store), items


def parse_prices(text: str) -> list[PriceChange]:
    errors: list[str] = []
    products: dict[str, str] = {}
    for where, sku, word in sku_lines(text, "PRICE", errors):
        if sku in products:
            errors.append(f"{where}{sku} twice: one price per SKU")
            continue
        cents, problem = money(word, "price", positive=True)
        if problem:
            errors.append(where + problem)
            continue
        products[sku] = format_money(cents or 0)
    if not products and not errors:
        errors.append(f"no prices: {PRICES_HELP}")
    if errors:
        raise FormError("\n".join(errors))
    return [{"sku": sku, "price": price} for sku, price in products.items()]


class Retries:
    """The Idempotency-Key of the request being sent, kept until it succeeds."""

    def __init__(self) -> None:
        self._request: object = None
        self._key = ""

    def key(self, request: object) -> str:
        if request != self._request or not self._key:
            self._request, self._key = request, secrets.token_urlsafe(16)
        return self._key

    def settled(self) -> None:
        """It succeeded: the same request again is a new one."""
        self._request, self._key = None, ""

"""Core value types shared by actors, store and API."""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum


class OrderKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    RESTOCK = "RESTOCK"
    TRANSFER_OUT = "TRANSFER_OUT"  # stock picked for another store of the chain
    TRANSFER_IN = "TRANSFER_IN"  # stock shipped by another store, shelved here

    @property
    def task(self) -> TaskKind:
        """What robots do for it: pick what leaves the store, shelve what arrives."""
        picks = self in (OrderKind.CUSTOMER, OrderKind.TRANSFER_OUT)
        return TaskKind.PICK if picks else TaskKind.SHELVE

    @property
    def transfer(self) -> bool:
        return self in (OrderKind.TRANSFER_OUT, OrderKind.TRANSFER_IN)


TRANSFER_OWNER = "chain:"  # a transfer's owner: chain:<the other store>

# A SKU stands in URL paths (/api/ops/products/{sku}) and in lot ids ({sku}/undated): a
# letter or digit, then letters, digits, '.', '_' or '-'; at most 64.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_SKU = re.compile(SKU_PATTERN)


def sku_problem(sku: str) -> str | None:
    """Why `sku` is not a SKU, or None."""
    if _SKU.fullmatch(sku):
        return None
    return (
        f"SKU {sku[:70]!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
        "letter or a digit"
    )


class OrderStatus(StrEnum):
    PREVIEWED = "PREVIEWED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


FINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED}
)


class MovementType(StrEnum):
    IN = "IN"
    OUT = "OUT"
    WASTE = "WASTE"
    ADJUST = "ADJUST"
    COUNT = "COUNT"
    RETURN = "RETURN"  # picked for an order cancelled while robots picked: back on the shelf
    TRANSFER_OUT = "TRANSFER_OUT"  # picked and shipped to another store of the chain
    TRANSFER_IN = "TRANSFER_IN"  # shipped by another store, shelved here


# What an operator may record by hand. IN and OUT are goods received or taken outside a
# restock or an order ("got 5 boxes of cola", "took 3 cola"): the plain-words commands.
OPERATOR_REASONS = frozenset(
    {
        MovementType.IN,
        MovementType.OUT,
        MovementType.WASTE,
        MovementType.ADJUST,
        MovementType.COUNT,
    }
)
_TAKES = frozenset({MovementType.WASTE, MovementType.OUT})


def adjustment_problem(reason: str, delta: int) -> str | None:
    """Why an operator's movement of `delta` for `reason` is not allowed, if it is not:
    non-zero, negative for WASTE and OUT, positive for IN."""
    if reason not in OPERATOR_REASONS:
        return f"reason must be one of {', '.join(sorted(OPERATOR_REASONS))}"
    if delta == 0:
        return "delta must be non-zero"
    if reason in _TAKES and delta > 0:
        return f"delta must be negative for {reason}"
    if reason == MovementType.IN and delta < 0:
        return "delta must be positive for IN"
    return None


class TaskKind(StrEnum):
    PICK = "PICK"
    SHELVE = "SHELVE"

    @property
    def priority(self) -> int:
        """Lower goes first: a customer waits for a pick; nobody waits at the shelf."""
        return 0 if self is TaskKind.PICK else 1


CONTAINER_TYPES = ("can", "plastic", "glass", "bag", "box")


@dataclass(frozen=True, slots=True)
class Product:
    """A catalog entry. The fields after `min_level` describe the product (for search,
    plain-words stock commands and dated deliveries); a catalog that leaves them out
    gets the defaults the loader fills in."""

    sku: str
    name: str
    aisle: str
    unit: str  # what one counts in: loaf, kg, bottle, pack…
    price: int  # cents
    unit_cost: int  # cents
    stock: int
    min_level: int
    category: str = ""  # e.g. "drinks"; the loader defaults it to the aisle
    brand: str = ""
    size: str = ""  # as printed on the pack: "330 ml", "1 kg"
    container_type: str = ""  # one of CONTAINER_TYPES, or "" when it does not matter
    box_size: int | None = None  # units in the box it is delivered in; None: not boxed
    name_en: str = ""  # the loader defaults it to `name`
    name_he: str = ""
    keywords: tuple[str, ...] = ()  # other words people use for it, in any language
    shelf_life_days: int | None = None  # days from delivery to expiry; None: undated

    @property
    def names(self) -> tuple[str, ...]:
        """Every name it goes by, each once: name, English, Hebrew, then keywords."""
        found = (self.name, self.name_en, self.name_he, *self.keywords)
        return tuple(dict.fromkeys(n for n in found if n))

    @property
    def details(self) -> ProductDetails:
        return ProductDetails(
            self.category,
            self.brand,
            self.size,
            self.container_type,
            self.box_size,
            "" if self.name_en == self.name else self.name_en,  # "": follows a new name
            self.name_he,
            self.keywords,
            self.shelf_life_days,
        )


@dataclass(frozen=True, slots=True)
class ProductDetails:
    """What describes a product beyond its stock and price (search, plain-words
    commands, dated deliveries). Stock keeps them (`products.details`): from the catalog
    file, until a head office's catalog version sets them."""

    category: str = ""
    brand: str = ""
    size: str = ""
    container_type: str = ""
    box_size: int | None = None
    name_en: str = ""  # "": the product's name
    name_he: str = ""
    keywords: tuple[str, ...] = ()
    shelf_life_days: int | None = None

    @classmethod
    def default(cls, aisle: str) -> ProductDetails:
        """A product nobody described (added by an operator): as the loader would."""
        return cls(category=aisle)

    def to_json(self) -> str:
        fields = {
            "category": self.category,
            "brand": self.brand,
            "size": self.size,
            "container_type": self.container_type,
            "box_size": self.box_size,
            "name_en": self.name_en,
            "name_he": self.name_he,
            "keywords": list(self.keywords),
            "shelf_life_days": self.shelf_life_days,
        }
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ProductDetails:
        data = json.loads(text)
        return cls(**{**data, "keywords": tuple(data.get("keywords", ()))})


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One requested line: quantity of a SKU, and for restocks its unit cost in cents and
    the dates of the goods (best before, made on), when they have them."""

    sku: str
    quantity: int
    unit_cost: int | None = None
    expiry_date: date | None = None
    mfd_date: date | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of a stored order or restock, as the stock actor's orders own it.

    `unit_price` is the price locked at preview for a customer order, and the unit cost
    for a restock. Lines are immutable: actors pass the same tuple along, never a copy.
    """

    sku: str
    name: str
    aisle: str
    quantity: int
    unit_price: int  # cents
    expiry_date: date | None = None  # restock lines: the goods' best-before date
    mfd_date: date | None = None


Lines = tuple[OrderLine, ...]


def lines_total(lines: Lines) -> int:
    """What the lines cost at their locked prices: the bill of an order."""
    return sum(line.quantity * line.unit_price for line in lines)


def new_id(prefix: str) -> str:
    """`ord_0196b4e1f2a3c4d5e6f7a8b9`: 48 bits of milliseconds, then 48 random bits.
    Ids made one after another sort together, so a batch's new rows land on the same
    B-tree pages (random ids would dirty a page per row in every index on them)."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


def now() -> float:
    return time.time()


_seconds: dict[int, str] = {}  # second -> its "YYYY-MM-DDTHH:MM:SS", recently used


def rfc3339(ts: float | None) -> str | None:
    """`2026-11-25T16:15:09.123Z` (milliseconds, truncated as `datetime` does). Events
    stamp many times a second, so formatted seconds are kept for the next calls."""
    if ts is None:
        return None
    fraction, whole = math.modf(ts)
    second, micros = int(whole), round(fraction * 1_000_000)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    text = _seconds.get(second)
    if text is None:
        if len(_seconds) >= 4096:
            _seconds.clear()
        text = _seconds[second] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{micros // 1000:03d}Z"

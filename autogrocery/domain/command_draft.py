"""A stock command being made exact: the draft (what is known, and what was asked), the
reply to each step, the movement a confirmed command records, what may be asked, and
the stock levels the caller reads for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from autogrocery.domain.models import MovementType, Product


class Level(Protocol):
    """A product's stock as the caller read it (`StockLevel` is one)."""

    @property
    def on_hand(self) -> int: ...

    @property
    def reserved(self) -> int: ...

    @property
    def expired(self) -> int: ...  # in expired lots: written off as waste, never taken out


class Status(StrEnum):
    QUESTION = "question"  # waiting for an answer
    DONE = "done"  # confirmed: `movement` (or None when nothing changes)
    CANCELLED = "cancelled"
    FAILED = "failed"  # not understood, or not possible; nothing recorded


class Ask(StrEnum):
    ACTION = "action"
    PRODUCT = "product"
    DID_YOU_MEAN = "did_you_mean"
    WHICH = "which"
    QUANTITY = "quantity"
    UNIT = "unit"
    MEASURE = "measure"  # is the number in the product's unit (kg, dozen)?
    SHORT = "short"
    CONFIRM = "confirm"  # record `Reply.proposal`?


@dataclass(frozen=True, slots=True)
class Movement:
    """What to record: `delta` is signed (OUT and WASTE take stock away)."""

    sku: str
    type: MovementType
    delta: int
    note: str  # the command as the operator typed it
    user: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: Status
    text: str
    ask: Ask | None = None
    choices: tuple[Product, ...] = ()  # numbered from 1, for WHICH and DID_YOU_MEAN
    movement: Movement | None = None  # recorded: the caller writes it
    language: str = "en"
    proposal: Movement | None = None  # what a yes to CONFIRM records


@dataclass(frozen=True, slots=True)
class Draft:
    """A command being made exact: what is known, and what was asked."""

    text: str
    language: str
    action: MovementType | None
    quantity: int | None
    boxes: bool | None
    words: str
    hints: tuple[str, ...] = ()
    sku: str | None = None
    asked: Ask | None = None
    choices: tuple[str, ...] = ()
    fraction: bool = False  # the quantity said was not a whole number
    measured: bool = False  # the quantity is in the product's unit: a question said it
    offered: int | None = None  # what "only N on hand; take N?" offered


Stock = Mapping[str, Level]

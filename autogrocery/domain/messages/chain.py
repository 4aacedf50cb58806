"""The head office, to this store's stock: ship or receive a transfer, report every
level, apply a catalog version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.models import LineRequest
from autogrocery.domain.records import OrderRecord


@dataclass(frozen=True, slots=True)
class ShipTransfer(Answered[OrderRecord]):
    """Stock: the head office asks this store to ship `items` to `to_store`: reserve
    them (FEFO) for a TRANSFER_OUT order keyed by the transfer id, or refuse."""

    transfer_id: str
    to_store: str
    items: tuple[LineRequest, ...]


@dataclass(frozen=True, slots=True)
class ReceiveTransfer(Answered[OrderRecord | None]):
    """Stock: a shipment from `from_store` is on its way: a TRANSFER_IN order keyed by
    the transfer id, its lines as shipped (lot dates and costs kept)."""

    transfer_id: str
    from_store: str
    lines: tuple[LineRequest, ...]


@dataclass(frozen=True, slots=True)
class ReportLevels(Answered[None]):
    """Stock: tell the head office every SKU's levels (one outbox row), as the relay of
    a store in a chain starts: the levels it reports after are those that change."""


@dataclass(frozen=True, slots=True)
class ApplyCatalog(Answered[int]):
    """Stock: apply a catalog version of the head office (each once, in order)."""

    version: int
    products: tuple[CatalogChange, ...]


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """A product as a catalog version sets it; None: left as it is."""

    sku: str
    name: str | None = None
    aisle: str | None = None
    unit: str | None = None
    price: int | None = None
    unit_cost: int | None = None
    min_level: int | None = None
    details: dict[str, Any] | None = None  # ProductDetails fields it sets

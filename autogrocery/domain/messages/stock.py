"""Stock: orders and deliveries to check and price, settling and releasing what orders
hold, keeping products and their stock, expiry, and what stock is asked."""

from __future__ import annotations

from dataclasses import dataclass

from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.models import LineRequest, Lines, OrderKind
from autogrocery.domain.records import Alert, LotLevel, OrderRecord, RequestKey, StockLevel


@dataclass(frozen=True, slots=True)
class PreviewOrder(Answered[OrderRecord]):
    """Stock: reserve and price `lines` and store the order, in one batch."""

    owner: str
    lines: tuple[LineRequest, ...]
    request: RequestKey | None = None  # a client's Idempotency-Key: one order per key


@dataclass(frozen=True, slots=True)
class CreateRestock(Answered[OrderRecord]):
    """Stock: name the lines of a truck's manifest and store the restock."""

    owner: str
    lines: tuple[LineRequest, ...]
    request: RequestKey | None = None  # a client's Idempotency-Key: one restock per key


@dataclass(frozen=True, slots=True)
class CancelPicked:
    """Stock: a processing order was cancelled: free what it held and put what robots had
    picked (`picked` SKUs) back into its lots (OUT, then RETURN), once."""

    order_id: str
    picked: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SettleOrder:
    """Stock: every robot task is done; take (order, transfer out) or add (restock,
    transfer in) the stock, once."""

    order_id: str
    kind: OrderKind
    lines: Lines
    ref: str | None = None
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class AddProduct(Answered[StockLevel]):
    sku: str
    name: str
    aisle: str
    unit: str
    min_level: int
    on_hand: int
    price: int
    unit_cost: int
    user: str


@dataclass(frozen=True, slots=True)
class UpdateProduct(Answered[StockLevel]):
    sku: str
    name: str | None = None
    min_level: int | None = None
    price: int | None = None


@dataclass(frozen=True, slots=True)
class AdjustStock(Answered[StockLevel]):
    sku: str
    delta: int
    reason: str
    note: str | None
    user: str
    lot_id: str | None = None  # None: taken FEFO (waste: expired lots first) or added undated


@dataclass(frozen=True, slots=True)
class ExpireLots:
    """Stock: write off what expired lots hold beyond open orders' holds (WASTE, reason
    "expired"), and raise or clear expiry alerts. Idempotent: run at start and hourly."""


@dataclass(frozen=True, slots=True)
class ExpiringLots(Answered[list[LotLevel]]):
    """Stock: lots with stock whose best-before date is within `days` days (or past),
    the earliest first (then by SKU and lot): up to `limit` of them after the lot keyed
    `after` (its best-before date, SKU and lot id)."""

    days: int
    limit: int | None = None
    after: tuple[str, str, str] | None = None


@dataclass(frozen=True, slots=True)
class ReservedAmiss(Answered[list[StockLevel]]):
    """Stock: the levels of the products whose reserved stock is below 0 or above their
    on_hand (none, unless the books are wrong)."""


@dataclass(frozen=True, slots=True)
class StockLevels(Answered[list[StockLevel]]):
    """Stock: every product's levels and price, as stock holds them now."""


@dataclass(frozen=True, slots=True)
class StockPage(Answered[list[StockLevel]]):
    """Stock: up to `limit` products' levels after `after` (aisle, SKU) in shelf order,
    those matching every filter given: the aisle, the category (folded: case and accents
    do not matter), the start of the SKU, and only the low ones (available below their
    min level)."""

    limit: int
    after: tuple[str, str] | None = None
    aisle: str | None = None
    category: str | None = None
    sku_prefix: str | None = None
    below_min: bool = False


@dataclass(frozen=True, slots=True)
class ShortLevels(Answered[list[StockLevel]]):
    """Stock: the levels, without details, of the products whose available stock is
    below their min level or below `needed[sku]` units (what the delivery's lead time
    will use up): the reorder report's candidates, found where the levels are instead
    of 50,000 levels sent to be sifted."""

    needed: dict[str, float]


@dataclass(frozen=True, slots=True)
class LevelsOf(Answered[list[StockLevel]]):
    """Stock: the levels of these SKUs (unknown ones left out), in the order given."""

    skus: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DescriptionsVersion(Answered[tuple[int, int]]):
    """Stock: a version of what describes the products (their set, names, aisles and
    details; not stock or prices): equal answers mean a search may reuse its products."""


@dataclass(frozen=True, slots=True)
class OpenAlerts(Answered[list[Alert]]):
    """Stock: the products whose available stock is below their min level."""

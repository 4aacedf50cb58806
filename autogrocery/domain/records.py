"""What actors answer: frozen records, shaped into the API's JSON by `views`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from autogrocery.domain.models import (
    Lines,
    MovementType,
    OrderKind,
    OrderStatus,
    ProductDetails,
    TaskKind,
)


@dataclass(frozen=True, slots=True)
class RequestKey:
    """A client's Idempotency-Key, a digest of the request it came with (its route and
    body) and the account that sent it (whose key it is): what made something under
    that key carries, in the same commit."""

    key: str
    digest: str
    owner: str


@dataclass(frozen=True, slots=True)
class Made:
    """Something a keyed request made (an order, a restock, a transfer, a catalog
    version), found by its key: what it is, its id, and its request's digest (None for
    an order made before digests were kept)."""

    kind: str
    ref: str
    digest: str | None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order or restock as stored. `total` is in cents: the preview total of an
    order, the bill once it completed, and the total cost of a restock."""

    order_id: str
    kind: OrderKind
    owner: str
    status: OrderStatus
    total: int
    lines: Lines
    created_at: float
    confirmed_at: float | None = None
    completed_at: float | None = None  # completed or failed: what latency is measured to
    ended_at: float | None = None  # when it reached its final status, whichever
    expires_at: float | None = None
    reason: str | None = None
    request_key: str | None = None  # a client's Idempotency-Key, or a transfer's id
    request_hash: str | None = None  # the keyed request's route and body (RequestKey)

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def latency_ms(self) -> float | None:
        """Created to completed (or failed), in ms; None until then."""
        if self.completed_at is None:
            return None
        return round((self.completed_at - self.created_at) * 1000.0, 3)

    def moved(
        self,
        status: OrderStatus,
        *,
        confirmed_at: float | None = None,
        ended_at: float | None = None,
        expires_at: float | None = None,
        completed: bool = False,
        total: int | None = None,
        reason: str | None = None,
    ) -> OrderRecord:
        """This order in `status` (dataclasses.replace, at a third of its cost: orders
        move three times each)."""
        return OrderRecord(
            self.order_id,
            self.kind,
            self.owner,
            status,
            self.total if total is None else total,
            self.lines,
            self.created_at,
            self.confirmed_at if confirmed_at is None else confirmed_at,
            ended_at if completed else self.completed_at,
            self.ended_at if ended_at is None else ended_at,
            self.expires_at if expires_at is None else expires_at,
            self.reason if reason is None else reason,
            self.request_key,
            self.request_hash,
        )

    def history(self) -> list[tuple[OrderStatus, float]]:
        """Each status it went through and when: the order's time columns."""
        steps: list[tuple[OrderStatus, float]] = []
        if self.kind == OrderKind.CUSTOMER:
            steps.append((OrderStatus.PREVIEWED, self.created_at))
        if self.confirmed_at is not None:
            steps.append((OrderStatus.PROCESSING, self.confirmed_at))
        if self.ended_at is not None and self.status != OrderStatus.PROCESSING:
            steps.append((self.status, self.ended_at))
        return steps


@dataclass(frozen=True, slots=True)
class Confirmation:
    order_id: str
    status: OrderStatus
    first: bool  # this call confirmed it (False: it was confirmed before)


@dataclass(frozen=True, slots=True)
class StockLevel:
    """One product's stock and price. `reserved` is what open orders hold, `expired` what
    lies in expired lots waiting to be written off: neither is for sale."""

    sku: str
    name: str
    aisle: str
    unit: str
    on_hand: int
    reserved: int
    min_level: int
    price: int  # cents; 0: not for sale
    unit_cost: int  # cents
    expired: int = 0
    details: ProductDetails | None = None  # None: undescribed (the defaults apply)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.expired

    @property
    def low(self) -> bool:
        return self.available < self.min_level


@dataclass(frozen=True, slots=True)
class MovementRecord:
    """One entry of the stock ledger: `delta` units of `sku` in or out of lot `lot_id`,
    why (`type`), for what (`ref`: an order, a restock, a note) and who (`user`)."""

    id: int
    sku: str
    type: MovementType
    delta: int
    ref: str | None
    user: str | None
    at: float
    lot_id: str


@dataclass(frozen=True, slots=True)
class LotLevel:
    """One lot of a product: its best-before date (None: undated) and what it holds."""

    lot_id: str
    sku: str
    expiry: date | None
    on_hand: int
    held: int
    unit_cost: int
    expired: bool


@dataclass(frozen=True, slots=True)
class Alert:
    """A low-stock alert (`lot` None), or an expiry alert for a lot."""

    level: StockLevel
    raised_at: float
    lot: LotLevel | None = None

    @property
    def kind(self) -> str:
        return "low" if self.lot is None else "expiring"

    def facts(self) -> dict[str, str | int | float | None]:
        """The alert as plain values: what a notice keeps, and what its view shows."""
        level, lot = self.level, self.lot
        facts: dict[str, str | int | float | None] = {
            "kind": self.kind,
            "sku": level.sku,
            "name": level.name,
            "aisle": level.aisle,
            "available": level.available,
            "min_level": level.min_level,
            "raised_at": self.raised_at,
        }
        if lot is not None:
            facts["lot_id"] = lot.lot_id
            facts["expiry_date"] = lot.expiry.isoformat() if lot.expiry else None
            facts["quantity"] = lot.on_hand
        return facts


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """A store's link to its head office, as `GET /api/ops/chain` shows it."""

    store_id: str
    hub_connected: bool  # the store's leaf node has a live link to the hub
    outbox_pending: int  # events the head office has not confirmed applying
    oldest_pending_age_s: float  # how long the oldest of them has waited (0: none)
    catalog_version: int  # the head office's catalog version the store applied


@dataclass(frozen=True, slots=True)
class ReplicationStatus:
    """Litestream replicating the store's database ([replicate]), as /readyz shows it."""

    replica: str  # where to: the replica's URL
    running: bool  # the litestream process runs
    lag_s: float  # seconds since the replica last held all the store had committed
    restarts: int  # times litestream died and was restarted
    last_error: str | None  # what litestream last logged as an error, until it caught up


@dataclass(frozen=True, slots=True)
class RobotWork:
    """The long task a robot is at, as it last reported (it reports every second)."""

    task_id: str
    order_id: str
    op: TaskKind
    done: int
    of: int


@dataclass(frozen=True, slots=True)
class RobotSeen:
    """A robot as the store sees it: its aisle and host, `state` (idle, busy or
    offline), when it was last heard from, its tallies and the long task it is at."""

    robot_id: str
    aisle: str
    host: str
    state: str
    last_seen: float
    tasks_done: int
    tasks_failed: int
    working_on: RobotWork | None = None

"""The head office's read model, behind one interface (`sql_model.SqlReadModel`, on
SQLite or PostgreSQL). What the applier, the sender, the reconciler, enrolment and the
HTTP API ask of it, and the records it answers with (money in cents, times in Unix
seconds: the API formats them).

The intake side (apply, due, delivered, leaf_seen, enrolled) is called from the
chain worker's own thread and may block it; the API side is async, and never blocks
the event loop it is awaited on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from autogrocery.chain.protocol import CatalogProduct, TransferItem, UpEvent
from autogrocery.domain.records import Made, RequestKey

TRANSFER_STATUSES = ("REQUESTED", "SHIPPED", "RECEIVED", "REFUSED")


# --- intake ------------------------------------------------------------------------------


MAX_LEVELS = 10_000  # store levels in a page of /api/chain/stock: ~600 kB of JSON


@dataclass(frozen=True, slots=True)
class Arrival:
    """One message of the intake stream, checked: whose stream it came from, and the
    event it holds, or why it is refused (then `event` is None)."""

    source_store: str | None  # the store whose UP_ stream it came from (None: unknown)
    stream: str | None  # that stream's name, UP_<store>_<epoch>
    stream_seq: int  # its sequence in that stream (0: unknown)
    received_at: float  # when the hub's intake stream stored it (the hub's clock)
    event: UpEvent | None
    refusal: str | None = None


@dataclass(slots=True)
class Outcome:
    """What applying one batch did."""

    applied: int = 0
    duplicates: int = 0
    refused: int = 0
    stores: set[str] = field(default_factory=set)  # whose events were applied
    transfers: bool = False  # a transfer moved on (the sender has work)


@dataclass(frozen=True, slots=True)
class Enrolment:
    store_id: str
    password_hash: str
    generation: int  # grows at each rotation
    shard: int = 0  # the intake shard its events go through (protocol.shard_of)


@dataclass(frozen=True, slots=True)
class Down:
    """One message due to a store, and what its acknowledgement settles."""

    store_id: str
    kind: str  # hwm | ship | receive | catalog
    key: str | int | None  # transfer id, catalog version, hwm
    body: bytes  # msgspec JSON of the protocol's down type


# --- the API's records ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreRecord:
    store_id: str
    shard: int
    enrolled_at: float
    last_seen: float | None
    last_event_at: float | None
    hwm: int
    lag_events: int
    catalog_version: int
    on_hand_units: int | None
    events_applied: int
    duplicates: int
    refused: int


@dataclass(frozen=True, slots=True)
class StockRecord:
    store_id: str
    on_hand: int
    reserved: int
    as_of: float | None


@dataclass(frozen=True, slots=True)
class SkuStock:
    sku: str
    stores: list[StockRecord]


@dataclass(frozen=True, slots=True)
class SalesRecord:
    store_id: str
    completed_orders: int
    revenue: int
    waste_value: int


@dataclass(frozen=True, slots=True)
class TransferLine:
    sku: str
    requested: int
    shipped: int | None
    received: int | None


@dataclass(frozen=True, slots=True)
class TransferRecord:
    transfer_id: str
    from_store: str
    to_store: str
    status: str
    items: list[TransferLine]
    reason: str | None
    requested_at: float
    shipped_at: float | None
    received_at: float | None
    cursor: int  # its place in the list of transfers


class ReadModelError(Exception):
    """The read model's database cannot be opened: unreachable, refused, not the head
    office's. Its text names the database."""


class AlreadyEnrolled(Exception):
    """The store id is enrolled already (rotate its credentials instead)."""


class NotEnrolled(Exception):
    """No store of that id is enrolled (enrol it instead of rotating)."""


class ReadModel(Protocol):
    # --- intake (the chain worker's thread) ---------------------------------------------

    def apply(self, batch: Sequence[Arrival]) -> Outcome:
        """Apply a batch in one transaction: each event once (its id is the key)."""
        ...

    def enrolled(self) -> list[Enrolment]: ...

    def enroll(
        self, store_id: str, password_hash: str, *, rotate: bool, now: float, shard: int = 0
    ) -> int:
        """Enrol a store on intake `shard` (or, with `rotate`, give an enrolled one new
        credentials: it stays on its shard); returns its generation. AlreadyEnrolled /
        NotEnrolled otherwise."""
        ...

    def hub_urls(self) -> list[str]:
        """The leaf URLs the running head office advertised last ([] before any run)."""
        ...

    def set_hub_urls(self, urls: Sequence[str]) -> None: ...

    def due(self, now: float) -> list[Down]:
        """What is due to every store; per store in the order it must go: its high-water
        mark if it grew, transfers to ship, transfers to receive, then the next catalog
        version."""
        ...

    def delivered(self, down: Down) -> None:
        """The store's leaf acknowledged `down`: it is not due any more."""
        ...

    def leaf_seen(self, seen: Sequence[tuple[str, str, int]], now: float) -> None:
        """Stores' current up streams and their last sequences, as their leaves said:
        (store, stream, last sequence) each."""
        ...

    # --- the API (async) -----------------------------------------------------------------

    async def stores(self) -> list[StoreRecord]: ...

    async def stock(self, sku: str) -> SkuStock | None: ...

    async def stock_page(self, after: str | None, limit: int) -> tuple[list[SkuStock], bool]:
        """Up to `limit` SKUs after `after`, fewer once the page holds `MAX_LEVELS` store
        levels, and whether more follow."""
        ...

    async def sales(self, first_day: str, last_day: str) -> list[SalesRecord]: ...

    async def unknown_skus(self, skus: Sequence[str]) -> list[str]: ...

    async def create_transfer(
        self,
        from_store: str,
        to_store: str,
        items: Sequence[TransferItem],
        by: str,
        now: float,
        key: RequestKey | None = None,
    ) -> TransferRecord:
        """A REQUESTED transfer, carrying `by`'s Idempotency-Key (in the same commit)."""
        ...

    async def made(self, user_id: str, key: str) -> Made | None:
        """The transfer or catalog version the account `user_id` made under this key."""
        ...

    async def transfer(self, transfer_id: str) -> TransferRecord | None: ...

    async def transfers(
        self, status: str | None, before: int | None, limit: int
    ) -> list[TransferRecord]: ...

    async def transfer_counts(self) -> dict[str, int]: ...

    async def publish_catalog(
        self,
        products: Sequence[CatalogProduct],
        by: str,
        now: float,
        key: RequestKey | None = None,
    ) -> int:
        """The next catalog version, carrying `by`'s Idempotency-Key (same commit)."""
        ...

    async def refused_unattributed(self) -> int: ...

    async def writable(self) -> None:
        """Raises unless a write would succeed."""
        ...

    async def close(self) -> None: ...

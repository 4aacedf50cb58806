"""What a store and its head office say to each other over NATS JetStream, and where.

Up (store → head office). Each row of a store's outbox is one message on
`chain.up.<store>.<kind>`, published to the store's leaf stream `UP_<store>_<epoch>` with
`Nats-Msg-Id = <store>:<seq>` (the row's sequence number: its event id). A row holds the
facts of one committed batch of one owner: stock's (ledger movements, the levels they
left, shipments and receipts of transfers, the catalog version applied), ordering's
(orders that reached their final state), or the relay's heartbeat. The head office's
intake streams (`CHAIN_IN`, and `CHAIN_IN_<n>` when it has more than one shard) source
every store's current `UP_` stream, each store's into its shard's (the epoch changes when
a store's leaf lost its stream, because a source of a deleted and recreated stream
stalls), and each shard's applier takes each event once, in order per store.

Down (head office → store): `chain.down.<store>.<kind>[.<key>]`, published by the head
office into the store's leaf stream `DOWN_<store>` (it keeps the last message of each
subject): its high-water mark (`hwm`), a transfer to ship (`ship.<transfer>`) or to
receive (`receive.<transfer>`), and each catalog version (`catalog.<version>`), with
`Nats-Msg-Id = hq:<store>:<kind>:<key>`.

On the hub, each store's leaf connection lands in an account of its own
(`S_<store>`), which exports to the head office's account (`HQ`) only its own JetStream
API (so the intake stream can source its stream), the subjects its messages are
delivered on, and its `chain.down` subjects. A store's credentials reach nothing else.

Money is in cents, times are Unix seconds, dates ISO 8601.
"""

from __future__ import annotations

import re
import zlib
from typing import Literal

import msgspec

VERSION = 1
STORE_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

HQ_ACCOUNT = "HQ"
HUB_DOMAIN = "hq"
INTAKE_STREAM = "CHAIN_IN"
INTAKE_CONSUMER = "central"
DOWN_CONSUMER = "store"


def store_id_problem(store_id: str) -> str | None:
    if STORE_ID.fullmatch(store_id):
        return None
    return f"store id {store_id!r} must be 1-32 letters, digits, '_' or '-'"


def intake_stream(shard: int) -> str:
    """The head office's intake stream of a shard: `CHAIN_IN` (shard 0, the only one of
    a head office with one shard), `CHAIN_IN_1`, `CHAIN_IN_2`..."""
    return INTAKE_STREAM if shard == 0 else f"{INTAKE_STREAM}_{shard}"


def shard_of(store_id: str, shards: int) -> int:
    """The shard a store is placed on when it is enrolled: a hash of its id, the same on
    every machine and Python (CRC-32, not `hash()`)."""
    return zlib.crc32(store_id.encode()) % shards


def store_account(store_id: str) -> str:
    return f"S_{store_id}"


def store_domain(store_id: str) -> str:
    """The JetStream domain of a store's leaf node."""
    return f"store-{store_id}"


def up_stream(store_id: str, epoch: int) -> str:
    return f"UP_{store_id}_{epoch}"


def up_epoch(stream: str, store_id: str) -> int | None:
    """The epoch of `store_id`'s up stream named `stream`, or None if it is not one."""
    prefix = f"UP_{store_id}_"
    if not stream.startswith(prefix) or not stream[len(prefix) :].isdigit():
        return None
    return int(stream[len(prefix) :])


def up_stream_store(stream: str) -> str | None:
    """The store whose up stream `stream` is (`UP_<store>_<epoch>`), or None."""
    store, _, epoch = stream[3:].rpartition("_")
    return store if stream.startswith("UP_") and store and epoch.isdigit() else None


def up_subject(store_id: str, kind: str) -> str:
    return f"chain.up.{store_id}.{kind}"


def up_subjects(store_id: str) -> str:
    return f"chain.up.{store_id}.>"


def down_stream(store_id: str) -> str:
    return f"DOWN_{store_id}"


def down_subject(store_id: str, kind: str, key: str | int | None = None) -> str:
    return f"chain.down.{store_id}.{kind}" + ("" if key is None else f".{key}")


def down_subjects(store_id: str) -> str:
    return f"chain.down.{store_id}.>"


def api_prefix(store_id: str) -> str:
    """Where the head office's account reaches the store's JetStream API (an import)."""
    return f"chain.api.{store_id}"


def deliver_prefix(store_id: str) -> str:
    """The subjects a store's stream is delivered on to the intake stream (an export)."""
    return f"chain.deliver.{store_id}"


def event_id(store_id: str, seq: int) -> str:
    return f"{store_id}:{seq}"


def down_id(store_id: str, kind: str, key: str | int) -> str:
    return f"hq:{store_id}:{kind}:{key}"


# --- up: the facts of a store ---------------------------------------------------------


class Movement(msgspec.Struct, frozen=True):
    """One ledger movement; `unit_cost` is its lot's, so waste has a value."""

    sku: str
    type: str
    delta: int
    ref: str | None
    lot_id: str
    unit_cost: int
    at: float


class Level(msgspec.Struct, frozen=True):
    """What a batch left of a SKU: on hand and held by open orders."""

    sku: str
    on_hand: int
    reserved: int


class OrderEnd(msgspec.Struct, frozen=True):
    """An order, restock or transfer that reached its final status."""

    order_id: str
    kind: str
    status: str
    total: int
    items: int
    ended_at: float
    reason: str | None = None
    transfer_id: str | None = None


class ShipLine(msgspec.Struct, frozen=True):
    """Units of one lot that travel: fresh food keeps its dates and cost."""

    sku: str
    quantity: int
    unit_cost: int
    expiry_date: str | None = None
    mfd_date: str | None = None


class Shipment(msgspec.Struct, frozen=True):
    transfer_id: str
    to_store: str
    lines: list[ShipLine]


class ReceiptLine(msgspec.Struct, frozen=True):
    sku: str
    quantity: int


class Receipt(msgspec.Struct, frozen=True):
    transfer_id: str
    from_store: str
    lines: list[ReceiptLine]


class Facts(msgspec.Struct, frozen=True, omit_defaults=True):
    """What one outbox row holds (its payload, as the owner wrote it)."""

    movements: list[Movement] = []
    levels: list[Level] = []
    orders: list[OrderEnd] = []
    shipments: list[Shipment] = []
    receipts: list[Receipt] = []
    catalog_version: int | None = None
    on_hand_units: int | None = None  # a heartbeat: the store's units on hand


UpKind = Literal["stock", "orders", "heartbeat"]


class UpEvent(msgspec.Struct, frozen=True):
    """One outbox row on the wire."""

    store_id: str
    seq: int
    kind: UpKind
    at: float
    facts: Facts
    v: int = VERSION


# --- down: what the head office asks of a store -------------------------------------


class Hwm(msgspec.Struct, frozen=True):
    """The last event of the store the head office has applied (its events up to it
    can be pruned from the store's outbox)."""

    hwm: int
    at: float


class TransferItem(msgspec.Struct, frozen=True):
    sku: str
    quantity: int


class Ship(msgspec.Struct, frozen=True):
    """Pick these for another store (or refuse, saying why)."""

    transfer_id: str
    to_store: str
    items: list[TransferItem]


class Receive(msgspec.Struct, frozen=True):
    """A shipment is on its way: shelve it as it was shipped."""

    transfer_id: str
    from_store: str
    lines: list[ShipLine]


class CatalogProduct(msgspec.Struct, frozen=True, omit_defaults=True):
    """A product as a catalog version sets it: what is not given stays as it is (a new
    product needs name, aisle and price)."""

    sku: str
    name: str | None = None
    aisle: str | None = None
    unit: str | None = None
    price: int | None = None
    unit_cost: int | None = None
    min_level: int | None = None
    category: str | None = None
    brand: str | None = None
    size: str | None = None
    name_he: str | None = None
    keywords: list[str] | None = None


class CatalogVersion(msgspec.Struct, frozen=True):
    version: int
    products: list[CatalogProduct]


DownKind = Literal["hwm", "ship", "receive", "catalog"]
DOWN_TYPES: dict[str, type[msgspec.Struct]] = {
    "hwm": Hwm,
    "ship": Ship,
    "receive": Receive,
    "catalog": CatalogVersion,
}

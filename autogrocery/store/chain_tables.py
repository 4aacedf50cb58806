"""SQL for the chain's outbox (appended by stock and its orders in their own batches) and
the relay's link state (docs/chain.md)."""

from __future__ import annotations

from typing import TypedDict

import orjson

from autogrocery.domain.models import now
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Delete, Insert

INSERT_FACTS = Insert("chain_outbox", ("kind", "at", "facts"))
DELETE_FACTS = Delete("chain_outbox", "seq")
SAVE_LINK = Insert("chain_link", ("id", "epoch", "sent", "hwm", "hwm_at"), "OR REPLACE")


# An outbox row's facts as its owner writes them: the shapes of chain/protocol.py's
# Facts and its parts, which the relay decodes them as (the store may not import msgspec
# or the chain; tests/chain/test_fact_shapes.py holds the two to the same fields).


class MovementFact(TypedDict):
    sku: str
    type: str
    delta: int
    ref: str | None
    lot_id: str
    unit_cost: int
    at: float


class LevelFact(TypedDict):
    sku: str
    on_hand: int
    reserved: int


class OrderEndFact(TypedDict):
    order_id: str
    kind: str
    status: str
    total: int
    items: int
    ended_at: float
    reason: str | None
    transfer_id: str | None


class ShipLineFact(TypedDict):
    sku: str
    quantity: int
    unit_cost: int
    expiry_date: str | None
    mfd_date: str | None


class ShipmentFact(TypedDict):
    transfer_id: str
    to_store: str
    lines: list[ShipLineFact]


class ReceiptLineFact(TypedDict):
    sku: str
    quantity: int


class ReceiptFact(TypedDict):
    transfer_id: str
    from_store: str
    lines: list[ReceiptLineFact]


class Facts(TypedDict, total=False):
    movements: list[MovementFact]
    levels: list[LevelFact]
    orders: list[OrderEndFact]
    shipments: list[ShipmentFact]
    receipts: list[ReceiptFact]
    catalog_version: int
    on_hand_units: int  # a heartbeat: the store's units on hand


def facts_row(kind: str, facts: Facts) -> tuple[str, float, bytes]:
    """One outbox row: a batch's facts for the head office (protocol.Facts' fields)."""
    return (kind, now(), orjson.dumps(facts))


class ChainTables:
    """The relay's reads and writes, through the store's one shared connection."""

    def __init__(self, db: SharedConnection) -> None:
        self.db = db

    def link(self) -> tuple[int, int, int, float | None]:
        """(epoch, last seq the leaf acknowledged, the head office's hwm, when it came);
        a store that never linked has epoch 0."""
        row = self.db.execute("SELECT epoch, sent, hwm, hwm_at FROM chain_link").fetchone()
        return (0, 0, 0, None) if row is None else (row[0], row[1], row[2], row[3])

    def save_link(self, epoch: int, sent: int, hwm: int, hwm_at: float | None) -> None:
        self.db.write_batch({SAVE_LINK: [(1, epoch, sent, hwm, hwm_at)]})

    def after(self, seq: int, limit: int) -> list[tuple[int, str, float, bytes]]:
        """Outbox rows after `seq`, oldest first: (seq, kind, at, facts)."""
        rows = self.db.execute(
            "SELECT seq, kind, at, facts FROM chain_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [(row[0], row[1], row[2], bytes(row[3])) for row in rows]

    def newest(self) -> int:
        """The newest outbox seq ever given (pruned rows included)."""
        row = self.db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'chain_outbox'"
        ).fetchone()
        return int(row[0]) if row is not None else 0

    def oldest_after(self, seq: int) -> float | None:
        """When the first row after `seq` was written (None: there is none)."""
        row = self.db.execute(
            "SELECT at FROM chain_outbox WHERE seq > ? ORDER BY seq LIMIT 1", (seq,)
        ).fetchone()
        return None if row is None else float(row[0])

    def prune(self, upto: int, limit: int = 500) -> int:
        """Delete up to `limit` rows at or below `upto` (confirmed applied); how many."""
        seqs = self.db.execute(
            "SELECT seq FROM chain_outbox WHERE seq <= ? ORDER BY seq LIMIT ?", (upto, limit)
        ).fetchall()
        if seqs:
            self.db.write_batch({DELETE_FACTS: [(row[0],) for row in seqs]})
        return len(seqs)

    def catalog_version(self) -> int:
        row = self.db.execute(
            "SELECT value FROM stock_meta WHERE key = 'catalog_version'"
        ).fetchone()
        return int(row[0]) if row is not None else 0

    def heartbeat(self) -> None:
        """A heartbeat row, with the units the store holds (its own small transaction)."""
        row = self.db.execute("SELECT COALESCE(SUM(on_hand), 0) FROM products").one()
        on_hand_units = int(row[0])
        self.db.write_batch(
            {INSERT_FACTS: [facts_row("heartbeat", {"on_hand_units": on_hand_units})]}
        )

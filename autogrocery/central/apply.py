"""Applying stores' events to the read model (either backend): one batch, one
transaction, a few statements per table (`apply_fold.py` folds the batch first).

Each event's id (`<store>:<seq>`) is the key of `events`: inserted first (the batch's
in one statement, `RETURNING` the ids that were new), and only the new ones' facts are
applied, so a redelivered event (the central died between the commit and the ack, a
source replayed) changes nothing but the duplicates counter. Levels carry the sequence
of the event that set them and only a newer one replaces them, so even an event applied
late cannot roll a store's stock back. Transfers move on event by event, in order.
"""

from __future__ import annotations

import collections
import datetime
import logging
from collections.abc import Sequence

from autogrocery.central.apply_fold import Fold
from autogrocery.central.readmodel import Arrival, Outcome
from autogrocery.central.sqlconn import Backend, Column, Conn, Params
from autogrocery.chain.protocol import OrderEnd, Receipt, Shipment, UpEvent, event_id

log = logging.getLogger(__name__)

REFUSED_UNATTRIBUTED = "refused_unattributed"  # a settings key: refusals of no store
ENDED_UNSHIPPED = ("FAILED", "CANCELLED", "REFUSED", "EXPIRED")


def apply_batch(
    conn: Conn, batch: Sequence[Arrival], zone: datetime.tzinfo, db: Backend
) -> Outcome:
    """Apply every arrival of `batch` (the caller holds the transaction); `db` writes
    many rows its own best way (`Backend.insert_many`, `update_many`)."""
    done = Outcome()
    enrolled = {row[0] for row in conn.execute("SELECT store_id FROM stores")}
    refused: collections.Counter[str | None] = collections.Counter()
    candidates: dict[str, tuple[Arrival, UpEvent]] = {}
    duplicates: collections.Counter[str] = collections.Counter()
    for arrival in batch:
        event = arrival.event
        if event is None or event.store_id not in enrolled:
            _refused(arrival)
            refused[arrival.source_store if arrival.source_store in enrolled else None] += 1
            continue
        key = event_id(event.store_id, event.seq)
        if key in candidates:  # twice in one batch: the second is a duplicate
            duplicates[event.store_id] += 1
        else:
            candidates[key] = (arrival, event)
    new = _insert_events(db, conn, candidates)
    fresh = []
    for key, (arrival, event) in candidates.items():
        if key in new:
            fresh.append((arrival, event))
        else:
            duplicates[event.store_id] += 1
    fold = Fold.of(fresh, zone)
    _write_levels(db, conn, fold)
    _write_days(db, conn, fold)
    _write_stores(db, conn, fold)
    for _, event in fresh:
        done.transfers |= _transfers(conn, event)
    _count(conn, "duplicates", duplicates)
    _count(conn, "refused", collections.Counter({k: n for k, n in refused.items() if k}))
    if refused[None]:
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = CAST(CAST(settings.value AS INTEGER) + ? AS TEXT)",
            (REFUSED_UNATTRIBUTED, str(refused[None]), refused[None]),
        )
    done.applied, done.refused = len(fresh), sum(refused.values())
    done.duplicates = sum(duplicates.values())
    done.stores = set(fold.stores)
    return done


def _refused(arrival: Arrival) -> None:
    store = arrival.source_store
    log.warning(
        "refused an event from %s (%s): %s",
        store or "an unknown stream",
        arrival.stream,
        arrival.refusal or "its store is not enrolled",
        extra={"store_id": store, "stream": arrival.stream, "stream_seq": arrival.stream_seq},
    )


EVENTS: list[Column] = [
    ("event_id", "text"),
    ("store_id", "text"),
    ("seq", "bigint"),
    ("kind", "text"),
    ("at", "double precision"),
    ("applied_at", "double precision"),
]
LEVELS: list[Column] = [
    ("store_id", "text"),
    ("sku", "text"),
    ("on_hand", "bigint"),
    ("reserved", "bigint"),
    ("seq", "bigint"),
]
DAYS: list[Column] = [
    ("store_id", "text"),
    ("day", "text"),
    ("completed_orders", "bigint"),
    ("revenue", "bigint"),
    ("waste_value", "bigint"),
]


def _insert_events(
    db: Backend, conn: Conn, candidates: dict[str, tuple[Arrival, UpEvent]]
) -> set[object]:
    rows: list[Params] = [
        # times as floats: PostgreSQL's arrays take one type (an int among floats fails)
        (key, e.store_id, e.seq, e.kind, float(e.at), float(a.received_at))
        for key, (a, e) in candidates.items()
    ]
    tail = "ON CONFLICT DO NOTHING RETURNING event_id"
    return set(db.insert_many(conn, "events", EVENTS, rows, tail))


def _write_levels(db: Backend, conn: Conn, fold: Fold) -> None:
    rows: list[Params] = [(store, sku, *level) for (store, sku), level in fold.levels.items()]
    tail = (
        "ON CONFLICT (store_id, sku) DO UPDATE SET on_hand = excluded.on_hand, "
        "reserved = excluded.reserved, seq = excluded.seq WHERE excluded.seq >= stock.seq"
    )
    db.insert_many(conn, "stock", LEVELS, rows, tail)


def _write_days(db: Backend, conn: Conn, fold: Fold) -> None:
    rows: list[Params] = [(store, day, *sums) for (store, day), sums in fold.days.items()]
    tail = (
        "ON CONFLICT (store_id, day) DO UPDATE SET "
        "completed_orders = daily.completed_orders + excluded.completed_orders, "
        "revenue = daily.revenue + excluded.revenue, "
        "waste_value = daily.waste_value + excluded.waste_value"
    )
    db.insert_many(conn, "daily", DAYS, rows, tail)


STORES: list[Column] = [
    ("store_id", "text"),
    ("last_seen", "double precision"),
    ("last_event_at", "double precision"),
    ("hwm", "bigint"),
    ("applied", "bigint"),
    ("one_stream", "boolean"),
    ("stream", "text"),
    ("stream_seq", "bigint"),
    ("on_hand_units", "bigint"),
    ("catalog_version", "bigint"),
]
STORE_SETS = """
    last_seen = greatest(coalesce(stores.last_seen, 0), v.last_seen),
    last_event_at = greatest(coalesce(stores.last_event_at, 0), v.last_event_at),
    hwm = greatest(stores.hwm, v.hwm),
    events_applied = stores.events_applied + v.applied,
    stream_seq = CASE WHEN v.one_stream
            AND (stores.stream = v.stream OR (stores.stream IS NULL AND v.stream IS NULL))
        THEN greatest(stores.stream_seq, v.stream_seq) ELSE v.stream_seq END,
    stream = v.stream,
    on_hand_units = coalesce(v.on_hand_units, stores.on_hand_units),
    catalog_version = greatest(stores.catalog_version, v.catalog_version)
"""


def _write_stores(db: Backend, conn: Conn, fold: Fold) -> None:
    """Every store of the batch: when it was last heard from, its high-water mark, where
    its stream stands, what it holds (a heartbeat), which catalog it applied."""
    rows: list[Params] = [
        (
            store,
            f.last_seen,
            f.last_event_at,
            f.hwm,
            f.applied,
            f.one_stream,
            f.stream,
            f.stream_seq,
            f.on_hand_units,
            f.catalog_version,
        )
        for store, f in fold.stores.items()
    ]
    db.update_many(conn, "stores", "store_id", STORES, STORE_SETS, rows)


def _count(conn: Conn, column: str, counts: collections.Counter[str]) -> None:
    conn.executemany(
        f"UPDATE stores SET {column} = {column} + ? WHERE store_id = ?",  # noqa: S608
        [(n, store) for store, n in counts.items()],
    )


def _transfers(conn: Conn, event: UpEvent) -> bool:
    """Move on the transfers one new event tells of; True if one did."""
    store, facts = event.store_id, event.facts
    moved = False
    for order in facts.orders:
        moved |= _order(conn, store, order)
    for shipment in facts.shipments:
        moved |= _shipped(conn, store, event.at, shipment)
    for receipt in facts.receipts:
        moved |= _received(conn, store, event.at, receipt)
    return moved


def _order(conn: Conn, store: str, order: OrderEnd) -> bool:
    if order.transfer_id is None or order.status not in ENDED_UNSHIPPED:
        return False
    # The sending store could not pick it (not enough free stock: the reason names the
    # SKUs): the transfer is refused. Only the sender's own order of a transfer still
    # waiting for it can refuse it.
    refused = conn.execute(
        "UPDATE transfers SET status = 'REFUSED', reason = ? "
        "WHERE transfer_id = ? AND from_store = ? AND status = 'REQUESTED'",
        (
            order.reason or f"the sending store's order ended {order.status}",
            order.transfer_id,
            store,
        ),
    ).rowcount
    if not refused:
        log.warning(
            "store %s ended transfer %s's order %s, but the transfer is not one it was "
            "asked to ship now; ignored",
            store,
            order.transfer_id,
            order.status,
        )
    return bool(refused)


def _shipped(conn: Conn, store: str, at: float, shipment: Shipment) -> bool:
    moved = conn.execute(
        "UPDATE transfers SET status = 'SHIPPED', shipped_at = ? "
        "WHERE transfer_id = ? AND from_store = ? AND to_store = ? AND status = 'REQUESTED'",
        (at, shipment.transfer_id, store, shipment.to_store),
    ).rowcount
    if not moved:
        log.warning(
            "store %s shipped transfer %s, not one it was asked to ship now; ignored",
            store,
            shipment.transfer_id,
        )
        return False
    conn.executemany(
        "INSERT INTO transfer_lines (transfer_id, line, sku, quantity, unit_cost, "
        "expiry_date, mfd_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                shipment.transfer_id,
                n,
                line.sku,
                line.quantity,
                line.unit_cost,
                line.expiry_date,
                line.mfd_date,
            )
            for n, line in enumerate(shipment.lines, start=1)
        ],
    )
    _quantities(
        conn,
        shipment.transfer_id,
        "shipped",
        [(line.sku, line.quantity) for line in shipment.lines],
    )
    return True


def _received(conn: Conn, store: str, at: float, receipt: Receipt) -> bool:
    moved = conn.execute(
        "UPDATE transfers SET status = 'RECEIVED', received_at = ? "
        "WHERE transfer_id = ? AND to_store = ? AND from_store = ? AND status = 'SHIPPED'",
        (at, receipt.transfer_id, store, receipt.from_store),
    ).rowcount
    if not moved:
        log.warning(
            "store %s received transfer %s, not one on its way to it; ignored",
            store,
            receipt.transfer_id,
        )
        return False
    _quantities(
        conn, receipt.transfer_id, "received", [(line.sku, line.quantity) for line in receipt.lines]
    )
    return True


_QUANTITIES = {
    column: (
        f"UPDATE transfer_items SET {column} = 0 WHERE transfer_id = ?",  # noqa: S608
        f"INSERT INTO transfer_items (transfer_id, sku, requested, {column}) "  # noqa: S608
        f"VALUES (?, ?, 0, ?) ON CONFLICT (transfer_id, sku) DO UPDATE SET {column} = ?",
    )
    for column in ("shipped", "received")
}


def _quantities(conn: Conn, transfer_id: str, column: str, lines: list[tuple[str, int]]) -> None:
    """Per SKU, the sum of a shipment's or receipt's lines (lots); 0 for a requested SKU
    that is not among them."""
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        totals[sku] = totals.get(sku, 0) + quantity
    zero, upsert = _QUANTITIES[column]
    conn.execute(zero, (transfer_id,))
    conn.executemany(upsert, [(transfer_id, sku, total, total) for sku, total in totals.items()])

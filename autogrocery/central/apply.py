"""Applying stores' events to the read model (either backend): one batch, one
transaction.

Each event's id (`<store>:<seq>`) is the key of `events`: inserted first, and only if it
was new are its facts applied, so a redelivered event (the central died between the
commit and the ack, a source replayed) changes nothing but the duplicates counter.
Levels carry the sequence of the event that set them and only a newer one replaces
them, so even an event applied late cannot roll a store's stock back.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from autogrocery.central.readmodel import Arrival, Outcome
from autogrocery.central.sqlconn import Conn
from autogrocery.chain.protocol import Facts, OrderEnd, Receipt, Shipment, UpEvent, event_id

log = logging.getLogger(__name__)

REFUSED_UNATTRIBUTED = "refused_unattributed"  # a settings key: refusals of no store
ENDED_UNSHIPPED = ("FAILED", "CANCELLED", "REFUSED", "EXPIRED")


def apply_batch(conn: Conn, batch: Sequence[Arrival], zone: datetime.tzinfo) -> Outcome:
    """Apply every arrival of `batch` (the caller holds the transaction)."""
    done = Outcome()
    enrolled = {row[0] for row in conn.execute("SELECT store_id FROM stores")}
    for arrival in batch:
        event = arrival.event
        if event is None or event.store_id not in enrolled:
            _refuse(conn, arrival, enrolled)
            done.refused += 1
            continue
        inserted = conn.execute(
            "INSERT INTO events (event_id, store_id, seq, kind, at, applied_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                event_id(event.store_id, event.seq),
                event.store_id,
                event.seq,
                event.kind,
                event.at,
                arrival.received_at,
            ),
        ).rowcount
        if not inserted:
            conn.execute(
                "UPDATE stores SET duplicates = duplicates + 1 WHERE store_id = ?",
                (event.store_id,),
            )
            done.duplicates += 1
            continue
        done.transfers |= _facts(conn, event, zone)
        _seen(conn, arrival, event)
        done.applied += 1
        done.stores.add(event.store_id)
    return done


def _refuse(conn: Conn, arrival: Arrival, enrolled: set[str]) -> None:
    """Count a refusal against the store whose stream it came from."""
    store = arrival.source_store
    log.warning(
        "refused an event from %s (%s): %s",
        store or "an unknown stream",
        arrival.stream,
        arrival.refusal or "its store is not enrolled",
        extra={"store_id": store, "stream": arrival.stream, "stream_seq": arrival.stream_seq},
    )
    if store in enrolled:
        conn.execute("UPDATE stores SET refused = refused + 1 WHERE store_id = ?", (store,))
        return
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)",
        (REFUSED_UNATTRIBUTED,),
    )


def _seen(conn: Conn, arrival: Arrival, event: UpEvent) -> None:
    """Every event: when the store was last heard from, its high-water mark, where its
    stream stands, what it holds (a heartbeat), which catalog it applied."""
    facts = event.facts
    conn.execute(
        """
        UPDATE stores SET
            last_seen = greatest(coalesce(last_seen, 0), ?),
            last_event_at = greatest(coalesce(last_event_at, 0), ?),
            hwm = greatest(hwm, ?),
            events_applied = events_applied + 1,
            stream_seq = CASE WHEN stream IS NOT DISTINCT FROM ?
                THEN greatest(stream_seq, ?) ELSE ? END,
            stream = ?,
            on_hand_units = coalesce(?, on_hand_units),
            catalog_version = greatest(catalog_version, coalesce(?, 0))
        WHERE store_id = ?
        """,
        (
            arrival.received_at,
            event.at,
            event.seq,
            arrival.stream,
            arrival.stream_seq,
            arrival.stream_seq,
            arrival.stream,
            facts.on_hand_units,
            facts.catalog_version,
            event.store_id,
        ),
    )


def _facts(conn: Conn, event: UpEvent, zone: datetime.tzinfo) -> bool:
    """Apply one new event's facts; True if a transfer moved on."""
    store, facts = event.store_id, event.facts
    _levels(conn, store, event.seq, facts)
    for movement in facts.movements:
        if movement.type == "WASTE" and movement.delta < 0:
            value = -movement.delta * movement.unit_cost
            _daily(conn, store, _day(movement.at, zone), waste=value)
    moved = False
    for order in facts.orders:
        moved |= _order(conn, store, order, zone)
    for shipment in facts.shipments:
        moved |= _shipped(conn, store, event.at, shipment)
    for receipt in facts.receipts:
        moved |= _received(conn, store, event.at, receipt)
    return moved


def _levels(conn: Conn, store: str, seq: int, facts: Facts) -> None:
    conn.executemany(
        "INSERT INTO stock (store_id, sku, on_hand, reserved, seq) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (store_id, sku) DO UPDATE SET on_hand = excluded.on_hand, "
        "reserved = excluded.reserved, seq = excluded.seq WHERE excluded.seq >= stock.seq",
        [(store, level.sku, level.on_hand, level.reserved, seq) for level in facts.levels],
    )


def _order(conn: Conn, store: str, order: OrderEnd, zone: datetime.tzinfo) -> bool:
    if order.kind == "CUSTOMER" and order.status == "COMPLETED":
        _daily(conn, store, _day(order.ended_at, zone), orders=1, revenue=order.total)
        return False
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


def _daily(
    conn: Conn,
    store: str,
    day: str,
    *,
    orders: int = 0,
    revenue: int = 0,
    waste: int = 0,
) -> None:
    conn.execute(
        "INSERT INTO daily (store_id, day, completed_orders, revenue, waste_value) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (store_id, day) DO UPDATE SET "
        "completed_orders = daily.completed_orders + excluded.completed_orders, "
        "revenue = daily.revenue + excluded.revenue, "
        "waste_value = daily.waste_value + excluded.waste_value",
        (store, day, orders, revenue, waste),
    )


def _day(at: float, zone: datetime.tzinfo) -> str:
    """The chain's calendar day of a Unix time."""
    return datetime.datetime.fromtimestamp(at, zone).date().isoformat()

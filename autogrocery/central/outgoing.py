"""What the head office owes its stores, read for all of them at once: a handful of
statements whatever the number of stores (one per kind, one per transfer that is due,
one per catalog version that is due), never one round per store.

Per store the order is the one it must receive them in: its high-water mark if it grew,
transfers to ship, transfers to receive, then its next catalog version (one at a time:
the next is due once this one is acknowledged).
"""

from __future__ import annotations

import msgspec

from autogrocery.central.readmodel import Down
from autogrocery.central.sqlconn import Conn
from autogrocery.chain.protocol import Hwm, Receive, Ship, ShipLine, TransferItem


def due(conn: Conn, now: float) -> list[Down]:
    return [*_hwms(conn, now), *_ships(conn), *_receives(conn), *_catalogs(conn)]


def _hwms(conn: Conn, now: float) -> list[Down]:
    rows = conn.execute(
        "SELECT store_id, hwm FROM stores WHERE hwm > hwm_sent ORDER BY store_id"
    ).fetchall()
    return [Down(store, "hwm", hwm, msgspec.json.encode(Hwm(hwm, now))) for store, hwm in rows]


def _ships(conn: Conn) -> list[Down]:
    due: list[Down] = []
    for transfer_id, from_store, to_store in conn.execute(
        "SELECT transfer_id, from_store, to_store FROM transfers "
        "WHERE status = 'REQUESTED' AND ship_sent = 0 ORDER BY n"
    ).fetchall():
        items = [
            TransferItem(*item)
            for item in conn.execute(
                "SELECT sku, requested FROM transfer_items WHERE transfer_id = ? "
                "AND requested > 0 ORDER BY sku",
                (transfer_id,),
            )
        ]
        body = msgspec.json.encode(Ship(transfer_id, to_store, items))
        due.append(Down(from_store, "ship", transfer_id, body))
    return due


def _receives(conn: Conn) -> list[Down]:
    due: list[Down] = []
    for transfer_id, from_store, to_store in conn.execute(
        "SELECT transfer_id, from_store, to_store FROM transfers "
        "WHERE status = 'SHIPPED' AND receive_sent = 0 ORDER BY n"
    ).fetchall():
        lines = [
            ShipLine(*line)
            for line in conn.execute(
                "SELECT sku, quantity, unit_cost, expiry_date, mfd_date FROM "
                "transfer_lines WHERE transfer_id = ? ORDER BY line",
                (transfer_id,),
            )
        ]
        body = msgspec.json.encode(Receive(transfer_id, from_store, lines))
        due.append(Down(to_store, "receive", transfer_id, body))
    return due


def _catalogs(conn: Conn) -> list[Down]:
    wanted = [
        (store, int(version))
        for store, version in conn.execute(
            "SELECT store_id, catalog_sent + 1 FROM stores "
            "WHERE catalog_sent < (SELECT coalesce(max(version), 0) FROM catalog_versions) "
            "ORDER BY store_id"
        ).fetchall()
    ]
    bodies: dict[int, bytes] = {}
    for version in sorted({version for _, version in wanted}):  # a version is read once
        found = conn.execute(
            "SELECT products FROM catalog_versions WHERE version = ?", (version,)
        ).fetchone()
        if found is not None:
            bodies[version] = bytes(found[0])
    return [
        Down(store, "catalog", version, bodies[version])
        for store, version in wanted
        if version in bodies
    ]

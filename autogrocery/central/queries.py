"""The API's reads and writes on the read model (either backend), as plain functions
on a connection (run on the model's own threads, never on the event loop)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from autogrocery.central.apply import REFUSED_UNATTRIBUTED
from autogrocery.central.readmodel import (
    MAX_LEVELS,
    SalesRecord,
    SkuStock,
    StockRecord,
    StoreRecord,
    TransferLine,
    TransferRecord,
)
from autogrocery.central.sqlconn import Conn, Row
from autogrocery.chain.protocol import CatalogProduct, CatalogVersion, TransferItem
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.models import new_id
from autogrocery.domain.records import Made, RequestKey

NEW_PRODUCT_NEEDS = ("name", "aisle", "price")


def stores(conn: Conn) -> list[StoreRecord]:
    return [
        StoreRecord(
            store_id=row["store_id"],
            shard=row["shard"],
            enrolled_at=row["enrolled_at"],
            last_seen=row["last_seen"],
            last_event_at=row["last_event_at"],
            hwm=row["hwm"],
            lag_events=lag(row),
            catalog_version=row["catalog_version"],
            on_hand_units=row["units"],
            events_applied=row["events_applied"],
            duplicates=row["duplicates"],
            refused=row["refused"],
        )
        for row in conn.execute(
            # A store's units are its last heartbeat's (its relay sends the first one
            # when it starts): never summed from its levels, 50,000 rows a store.
            "SELECT s.*, s.on_hand_units AS units FROM stores s ORDER BY store_id"
        )
    ]


def lag(row: Row) -> int:
    """Events in the store's leaf stream the head office has not applied: the stream's
    last sequence (the reconciler asks the leaf) minus the stream sequence of the last
    event applied from it; all of it when nothing was applied from that stream yet (a
    new epoch). 0 while the leaf was never reached."""
    if row["leaf_last_seq"] is None:
        return 0
    if row["leaf_stream"] != row["stream"]:
        return int(row["leaf_last_seq"])
    return max(0, int(row["leaf_last_seq"]) - int(row["stream_seq"]))


def stock(conn: Conn, sku: str) -> SkuStock | None:
    found = _stock_of(conn, [sku])
    if found:
        return found[0]
    known = conn.execute("SELECT 1 FROM catalog_skus WHERE sku = ?", (sku,)).fetchone()
    return SkuStock(sku, []) if known else None


# The next `limit` distinct SKUs of `stock` after one, by its (sku, store_id) index: one
# index probe per SKU (a skip scan), not a pass over every store's rows of every SKU.
NEXT_STOCK_SKUS = """
WITH RECURSIVE next (sku, n) AS (
    SELECT (SELECT min(sku) FROM stock WHERE sku > ?), 1
    UNION ALL
    SELECT (SELECT min(sku) FROM stock WHERE sku > next.sku), n + 1
    FROM next WHERE next.sku IS NOT NULL AND n < ?
)
SELECT sku FROM next WHERE sku IS NOT NULL
"""

NAMED_SKUS = "SELECT sku FROM catalog_skus WHERE sku > ? ORDER BY sku LIMIT ?"


def stock_page(
    conn: Conn, after: str | None, limit: int, max_levels: int = MAX_LEVELS
) -> tuple[list[SkuStock], bool]:
    """Up to `limit` SKUs after `after` that a store reported or a catalog version named,
    in order, each with every store's level, and whether more follow. The page ends
    early, before the SKU that would take it past `max_levels` store levels (counted
    first from the SKU index, a few SKUs at a time; a SKU is never cut, and a page holds
    one at least): at a thousand stores a page of 100 SKUs would be 100,000 levels."""
    start = after or ""
    reported = [row[0] for row in conn.execute(NEXT_STOCK_SKUS, (start, limit + 1))]
    named = [row[0] for row in conn.execute(NAMED_SKUS, (start, limit + 1))]
    skus = sorted(set(reported) | set(named))[: limit + 1]
    wanted = skus[:limit]
    taken: list[str] = []
    levels, size, full = 0, 1, False  # count one SKU, then as many as still fit
    while not full and len(taken) < len(wanted):
        chunk = wanted[len(taken) : len(taken) + size]
        counts = _levels_of(conn, chunk)
        for sku in chunk:
            count = counts.get(sku, 0)
            full = bool(taken) and levels + count > max_levels
            if full:
                break
            taken.append(sku)
            levels += count
        size = max(1, (max_levels - levels) // max(1, levels // len(taken)) + 1)
    found = {item.sku: item for item in _stock_of(conn, taken)}
    return [found.get(sku, SkuStock(sku, [])) for sku in taken], len(skus) > len(taken)


def _levels_of(conn: Conn, skus: Sequence[str]) -> dict[str, int]:
    """How many stores hold each of `skus` (from the SKU index alone)."""
    marks = ", ".join("?" * len(skus))
    sql = f"SELECT sku, count(*) FROM stock WHERE sku IN ({marks}) GROUP BY sku"  # noqa: S608
    return {row[0]: int(row[1]) for row in conn.execute(sql, tuple(skus))}


def _stock_of(conn: Conn, skus: Sequence[str]) -> list[SkuStock]:
    if not skus:
        return []
    marks = ", ".join("?" * len(skus))
    select = "SELECT k.sku, k.store_id, k.on_hand, k.reserved, s.last_event_at FROM stock k "
    sql = f"{select}JOIN stores s USING (store_id) WHERE k.sku IN ({marks}) "
    sql += "ORDER BY k.sku, k.store_id"
    rows = conn.execute(sql, tuple(skus))
    out: dict[str, SkuStock] = {}
    for row in rows:
        item = out.setdefault(row[0], SkuStock(row[0], []))
        item.stores.append(StockRecord(row[1], row[2], row[3], row[4]))
    return list(out.values())


def sales(conn: Conn, first_day: str, last_day: str) -> list[SalesRecord]:
    return [
        SalesRecord(*row)
        for row in conn.execute(
            "SELECT s.store_id, CAST(coalesce(sum(d.completed_orders), 0) AS BIGINT), "
            "CAST(coalesce(sum(d.revenue), 0) AS BIGINT), "
            "CAST(coalesce(sum(d.waste_value), 0) AS BIGINT) FROM stores s "
            "LEFT JOIN daily d ON d.store_id = s.store_id AND d.day BETWEEN ? AND ? "
            "GROUP BY s.store_id ORDER BY s.store_id",
            (first_day, last_day),
        )
    ]


def unknown_skus(conn: Conn, skus: Sequence[str]) -> list[str]:
    """The SKUs no store reported and no catalog version named."""
    return [
        sku
        for sku in dict.fromkeys(skus)
        if not conn.execute(
            "SELECT 1 FROM stock WHERE sku = ? UNION ALL SELECT 1 FROM catalog_skus "
            "WHERE sku = ? LIMIT 1",
            (sku, sku),
        ).fetchone()
    ]


def create_transfer(
    conn: Conn,
    from_store: str,
    to_store: str,
    items: Sequence[TransferItem],
    by: str,
    now: float,
    key: RequestKey | None = None,
) -> TransferRecord:
    """A REQUESTED transfer (the caller holds the transaction), carrying `by`'s
    Idempotency-Key if any; 400 naming the field for an unknown store or SKU."""
    errors = [
        {"field": field, "message": f"no store {store!r} is enrolled"}
        for field, store in (("from_store", from_store), ("to_store", to_store))
        if not conn.execute("SELECT 1 FROM stores WHERE store_id = ?", (store,)).fetchone()
    ]
    unknown = set(unknown_skus(conn, [item.sku for item in items]))
    errors += [
        {"field": f"items[{n}].sku", "message": f"unknown SKU {item.sku!r}"}
        for n, item in enumerate(items)
        if item.sku in unknown
    ]
    if errors:
        raise ValidationError("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    transfer_id = new_id("trf")
    conn.execute(
        "INSERT INTO transfers (transfer_id, from_store, to_store, status, requested_by, "
        "request_user, request_key, request_hash, requested_at) "
        "VALUES (?, ?, ?, 'REQUESTED', ?, ?, ?, ?, ?)",
        (transfer_id, from_store, to_store, by, *_keyed(key), now),
    )
    conn.executemany(
        "INSERT INTO transfer_items (transfer_id, sku, requested) VALUES (?, ?, ?)",
        [(transfer_id, item.sku, item.quantity) for item in items],
    )
    found = transfer(conn, transfer_id)
    if found is None:  # just inserted, in this transaction
        raise RuntimeError(f"transfer {transfer_id} vanished")
    return found


def transfer(conn: Conn, transfer_id: str) -> TransferRecord | None:
    row = conn.execute("SELECT * FROM transfers WHERE transfer_id = ?", (transfer_id,)).fetchone()
    return None if row is None else _transfer(conn, row)


def transfers(
    conn: Conn, status: str | None, before: int | None, limit: int
) -> list[TransferRecord]:
    """Newest first; `before` is the cursor of the last one of the previous page."""
    rows = conn.execute(
        "SELECT * FROM transfers WHERE (CAST(? AS TEXT) IS NULL OR status = ?) AND n < ? "
        "ORDER BY n DESC LIMIT ?",
        (status, status, before if before is not None else 2**62, limit),
    ).fetchall()
    return [_transfer(conn, row) for row in rows]


def _transfer(conn: Conn, row: Row) -> TransferRecord:
    items = [
        TransferLine(*item)
        for item in conn.execute(
            "SELECT sku, requested, shipped, received FROM transfer_items "
            "WHERE transfer_id = ? ORDER BY sku",
            (row["transfer_id"],),
        )
    ]
    return TransferRecord(
        transfer_id=row["transfer_id"],
        from_store=row["from_store"],
        to_store=row["to_store"],
        status=row["status"],
        items=items,
        reason=row["reason"],
        requested_at=row["requested_at"],
        shipped_at=row["shipped_at"],
        received_at=row["received_at"],
        cursor=row["n"],
    )


def transfer_counts(conn: Conn) -> dict[str, int]:
    return dict(conn.execute("SELECT status, count(*) FROM transfers GROUP BY status").fetchall())


def publish_catalog(
    conn: Conn,
    products: Sequence[CatalogProduct],
    by: str,
    now: float,
    key: RequestKey | None = None,
) -> int:
    """The next catalog version (the caller holds the transaction): versions only grow.
    A SKU the chain does not know yet is a new product and needs name, aisle, price."""
    errors = []
    unknown = set(unknown_skus(conn, [product.sku for product in products]))
    for n, product in enumerate(products):
        if product.sku in unknown:
            errors += [
                {
                    "field": f"products[{n}].{name}",
                    "message": f"required for a new SKU {product.sku!r}",
                }
                for name in NEW_PRODUCT_NEEDS
                if getattr(product, name) is None
            ]
    if errors:
        raise ValidationError("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM catalog_versions").fetchone()[
        0
    ]
    body = msgspec.json.encode(CatalogVersion(version, list(products)))
    conn.execute(
        "INSERT INTO catalog_versions (version, published_at, published_by, products, "
        "request_user, request_key, request_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (version, now, by, body, *_keyed(key)),
    )
    conn.executemany(
        "INSERT INTO catalog_skus (sku, version) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(product.sku, version) for product in products],
    )
    return int(version)


def refused_unattributed(conn: Conn) -> int:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (REFUSED_UNATTRIBUTED,))
    found = row.fetchone()
    return int(found[0]) if found else 0


def made(conn: Conn, user_id: str, key: str) -> Made | None:
    """The transfer or catalog version the account `user_id` made under this
    Idempotency-Key, if any."""
    row = conn.execute(
        "SELECT 'transfer', transfer_id, request_hash FROM transfers "
        "WHERE request_user = ? AND request_key = ? UNION ALL "
        "SELECT 'catalog', CAST(version AS TEXT), request_hash FROM catalog_versions "
        "WHERE request_user = ? AND request_key = ?",
        (user_id, key, user_id, key),
    ).fetchone()
    return None if row is None else Made(row[0], row[1], row[2])


def _keyed(key: RequestKey | None) -> tuple[str | None, str | None, str | None]:
    """The account, key and digest a keyed request's effect carries."""
    return (None, None, None) if key is None else (key.owner, key.key, key.digest)

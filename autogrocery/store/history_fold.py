"""The history keeper's steps, each one short write transaction on the store's shared
connection (so an order's batch waits at most one step): move the ledger's checkpoint
on, add a day that is over to the daily totals, count ended orders, prune a batch of
old movements (already in the daily totals) or counted orders, give a few freed pages
back to the file system. The tables are in store/history_schema.py.

The daily totals (`movement_days`) hold every movement stamped before the mark
`days_through` (the start of a store day): a report reads them for the days before
it and the movements themselves from it on, in one statement (store/reads.py), so a
year of a best seller is 365 rows, not one per sale, and a movement counts once
whether it was folded, pruned or neither.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, tzinfo

from autogrocery.domain.models import MovementType
from autogrocery.domain.reports import day_start
from autogrocery.store.shared import SharedConnection

THROUGH = "ledger_through"
ORDERS_THROUGH = "orders_through"
DAYS_THROUGH = "days_through"  # a store day's first second: the days before it are totalled
DAYS_SEEN = "days_seen"  # the last movement id the totals took account of
OPENED_AT = "opened_at"  # the store's first movement, kept when its day is totalled
TYPES = tuple(MovementType)
_IN_TYPES = ", ".join("?" * len(TYPES))
# One store day's movements into its totals (by type, SKU and lot cost), the movements
# found by type and time (movements_for_reports); totals a prune made before this
# mark existed are added to.
FOLD_DAY = (
    "INSERT INTO movement_days (type, day, sku, cost, quantity, movements) "  # noqa: S608
    "SELECT m.type, ?, m.sku, COALESCE(l.unit_cost, 0), SUM(m.delta), COUNT(*) "
    f"FROM movements m LEFT JOIN lots l ON l.lot_id = m.lot WHERE m.type IN ({_IN_TYPES}) "
    "AND m.at >= ? AND m.at < ? GROUP BY m.type, m.sku, 4 "
    "ON CONFLICT (type, day, sku, cost) DO UPDATE SET quantity = quantity + "
    "excluded.quantity, movements = movements + excluded.movements"
)
INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


def store_day(at: float, zone: tzinfo) -> float:
    """The first second of the store's day that `at` falls in."""
    return day_start(datetime.fromtimestamp(at, zone).date(), zone)


def mark(db: SharedConnection, key: str) -> float:
    row = db.execute("SELECT value FROM history_marks WHERE key = ?", (key,)).fetchone()
    return float(row[0]) if row else 0.0


def set_mark(db: SharedConnection, key: str, value: float) -> None:
    db.execute("INSERT OR REPLACE INTO history_marks (key, value) VALUES (?, ?)", (key, value))


def checkpoint(db: SharedConnection) -> int:
    """The last movement id the balances hold."""
    return int(mark(db, THROUGH))


def advance_checkpoint(db: SharedConnection, batch: int) -> int:
    """Fold up to `batch` movements after the checkpoint into the balances; how many."""

    def step(conn: SharedConnection) -> int:
        through = checkpoint(conn)
        rows = conn.execute(
            "SELECT id, sku, lot, delta FROM movements WHERE id > ? ORDER BY id LIMIT ?",
            (through, batch),
        ).fetchall()
        if not rows:
            return 0
        per_lot: dict[str, tuple[str, int]] = {}  # lot -> its SKU, the sum of its deltas
        per_sku: dict[str, int] = defaultdict(int)
        for _, sku, lot, delta in rows:
            per_sku[sku] += delta
            if lot is not None:
                lot_sku, balance = per_lot.get(lot, (sku, 0))
                per_lot[lot] = (lot_sku, balance + delta)
        conn.executemany(
            "INSERT INTO ledger_balances (lot, sku, balance) VALUES (?, ?, ?) "
            "ON CONFLICT (lot) DO UPDATE SET balance = balance + excluded.balance",
            [(lot, lot_sku, balance) for lot, (lot_sku, balance) in per_lot.items()],
        )
        conn.executemany(
            "INSERT INTO sku_balances (sku, balance) VALUES (?, ?) "
            "ON CONFLICT (sku) DO UPDATE SET balance = balance + excluded.balance",
            per_sku.items(),
        )
        set_mark(conn, THROUGH, rows[-1][0])
        return len(rows)

    return db.run_write(step)


def fold_day(db: SharedConnection, until: float, zone: tzinfo) -> int:
    """The first store day not yet in the daily totals added to them, if it was over
    before `until`; and, first, any movement committed since the last step but stamped
    before the mark (a batch that committed long after midnight, a clock set back),
    into its own day's totals. How many days and late movements (0: nothing to do).

    A day's movements go in one statement: the mark moves a whole day, so no day is
    ever half in the totals. Every movement up to `days_seen` (an id) and stamped
    before `days_through` is in the totals; a late one is read by no report until this
    step, at most a round later, and is never pruned before it. The first day is the
    oldest movement's (the days before it were pruned into the totals, or never were);
    when the store opened is kept then, since the totals' first day starts at midnight."""

    def step(conn: SharedConnection) -> int:
        day = mark(conn, DAYS_THROUGH)
        if not day:
            oldest = _earliest(conn, "movements")
            if oldest is None:
                return 0
            day = store_day(oldest, zone)
            set_mark(conn, OPENED_AT, min(oldest, _earliest(conn, "movement_days") or oldest))
        late = _fold_late(conn, day, zone)
        following = day_start(datetime.fromtimestamp(day, zone).date() + timedelta(days=1), zone)
        if following <= until:
            conn.execute(FOLD_DAY, (day, *TYPES, day, following))
            set_mark(conn, DAYS_THROUGH, following)
        set_mark(conn, DAYS_SEEN, conn.execute("SELECT MAX(id) FROM movements").one()[0] or 0)
        return late + (following <= until)

    return db.run_write(step)


def _fold_late(conn: SharedConnection, through: float, zone: tzinfo) -> int:
    """The movements after `days_seen` stamped before `through`, into their days."""
    rows = conn.execute(
        "SELECT m.type, m.sku, m.delta, m.at, COALESCE(l.unit_cost, 0) FROM movements m "
        "LEFT JOIN lots l ON l.lot_id = m.lot WHERE m.id > ? AND +m.at < ?",
        (mark(conn, DAYS_SEEN), through),
    ).fetchall()
    days: dict[tuple[str, float, str, int], list[int]] = {}
    for kind, sku, delta, at, cost in rows:
        totals = days.setdefault((kind, store_day(at, zone), sku, cost), [0, 0])
        totals[0] += delta
        totals[1] += 1
    conn.executemany(
        "INSERT INTO movement_days (type, day, sku, cost, quantity, movements) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (type, day, sku, cost) DO UPDATE SET "
        "quantity = quantity + excluded.quantity, movements = movements + excluded.movements",
        [(*key, quantity, count) for key, (quantity, count) in days.items()],
    )
    return len(rows)


# Each type's first, on the key that begins with the type (a MIN over the whole table
# reads every row of it).
_FIRST = {
    "movements": "SELECT MIN(at) FROM movements WHERE type = ?",
    "movement_days": "SELECT MIN(day) FROM movement_days WHERE type = ?",
}


def _earliest(conn: SharedConnection, table: str) -> float | None:
    """The oldest movement's stamp (`movements`) or the first day in the daily totals
    (`movement_days`: before the first fold, the first pruned), over every type."""
    found = [
        first
        for kind in TYPES
        if (first := conn.execute(_FIRST[table], (kind,)).one()[0]) is not None
    ]
    return min(found) if found else None


def prune_movements(db: SharedConnection, before: float, batch: int) -> int:
    """Of the oldest `batch` movements, those before `before` that are in the daily
    totals (before `days_through`, up to `days_seen`) and inside the checkpoint (so
    their sum stays in the balances) go out of the ledger; how many went. 0 when the
    oldest is recent (a movement stamped out of order near the edge waits for a later
    round). The newest movement always stays: ids are SQLite's rowids, and a new row
    takes the largest one + 1, so with the newest gone a new movement would take an id
    inside the checkpoint and never be folded or read as its tail."""

    def step(conn: SharedConnection) -> int:
        rows = conn.execute(
            "SELECT id FROM (SELECT id, at FROM movements ORDER BY id LIMIT ?) "
            "WHERE at < ? AND at < ? AND id <= ? AND id <= ? "
            "AND id < (SELECT MAX(id) FROM movements)",
            (batch, before, mark(conn, DAYS_THROUGH), mark(conn, DAYS_SEEN), checkpoint(conn)),
        ).fetchall()
        if rows:
            conn.executemany("DELETE FROM movements WHERE id = ?", rows)
        return len(rows)

    return db.run_write(step)


def fold_orders(db: SharedConnection, until: float, batch: int) -> int:
    """Count up to about `batch` more ended orders (those that ended before `until`)
    into `order_days`; how many. Every order that ended at the same instant as the
    last one counted is counted with it, so the mark never splits them."""

    def step(conn: SharedConnection) -> int:
        through = mark(conn, ORDERS_THROUGH)
        last = conn.execute(
            "SELECT ended_at FROM orders WHERE ended_at > ? AND ended_at < ? "
            "ORDER BY ended_at LIMIT 1 OFFSET ?",
            (through, until, batch - 1),
        ).fetchone()
        upto = float(last[0]) if last else until
        rows = conn.execute(
            "SELECT kind, status, CAST(ended_at / 86400 AS INTEGER) * 86400, COUNT(*), "
            "SUM(total), MAX(ended_at) FROM orders WHERE ended_at > ? AND ended_at <= ? "
            "AND ended_at < ? GROUP BY 1, 2, 3",
            (through, upto, until),
        ).fetchall()
        if not rows:
            return 0
        conn.executemany(
            "INSERT INTO order_days (kind, status, day, orders, total) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, status, day) DO UPDATE SET "
            "orders = orders + excluded.orders, total = total + excluded.total",
            [tuple(row[:5]) for row in rows],
        )
        set_mark(conn, ORDERS_THROUGH, max(row[5] for row in rows))
        return sum(row[3] for row in rows)

    return db.run_write(step)


def prune_orders(db: SharedConnection, before: float, batch: int) -> int:
    """Up to `batch` orders that ended before `before` (and are counted in
    `order_days`) go, with everything kept for them: lines, stock's settlement,
    fulfilment's tasks, the metrics outbox's row and analytics' latency; how many.
    Open orders stay, and so do the newest order, metric and latency: rowids and seqs
    are handed out from the largest there is, and ordering numbers its next metric so
    (a seq reused would be skipped by analytics, which resumes after the last it saw)."""

    def step(conn: SharedConnection) -> int:
        counted = mark(conn, ORDERS_THROUGH)
        ids = conn.execute(
            "SELECT order_id FROM orders WHERE ended_at < ? AND ended_at <= ? "
            "AND rowid < (SELECT MAX(rowid) FROM orders) ORDER BY ended_at LIMIT ?",
            (before, counted, batch),
        ).fetchall()
        if not ids:
            return 0
        keys = [(row[0],) for row in ids]
        for table in ("order_lines", "stock_settlements"):
            conn.executemany(f"DELETE FROM {table} WHERE order_id = ?", keys)  # noqa: S608
        for table in ("metrics_outbox", "latencies"):  # numbered by seq: the newest stays
            conn.executemany(
                f"DELETE FROM {table} WHERE order_id = ? "  # noqa: S608
                f"AND seq < (SELECT MAX(seq) FROM {table})",
                keys,
            )
        conn.executemany(
            "DELETE FROM tasks WHERE task_id > ? AND task_id < ?",
            [(f"{order_id}.", f"{order_id}/") for (order_id,) in keys],
        )
        conn.executemany("DELETE FROM orders WHERE order_id = ?", keys)
        return len(keys)

    return db.run_write(step)


def vacuum_step(db: SharedConnection, pages: int) -> int:
    """Give up to `pages` free pages back to the file system (a store in
    auto_vacuum=INCREMENTAL; any other reuses them for new rows instead); how many
    were free before."""
    if db.execute("PRAGMA auto_vacuum").one()[0] != INCREMENTAL:
        return 0
    free = int(db.execute("PRAGMA freelist_count").one()[0])
    if free:
        db.run_write(lambda conn: _give_back(conn, min(free, pages)))
    return free


def _give_back(conn: SharedConnection, pages: int) -> None:
    """One page a call: Python's sqlite3 steps a statement that returns no rows once,
    and each step of incremental_vacuum frees one page (a single call with a count
    gave back one page, not the count)."""
    for _ in range(pages):
        conn.execute("PRAGMA incremental_vacuum(1)")

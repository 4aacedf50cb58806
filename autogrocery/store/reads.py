"""Read-only queries for the API and the System facade, through aiosqlite (never on
the event loop's thread).

Every query runs to its end in one call (`_rows`): concurrent requests share this
connection, and a statement left open while another runs keeps the connection's read
transaction, so its snapshot, alive; an order committed and acknowledged meanwhile
would then read as missing. No cursor outlives its query here."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from autogrocery.domain.at_risk import MarkdownSold
from autogrocery.domain.models import MovementType, OrderKind
from autogrocery.domain.records import Made, MovementRecord, OrderRecord
from autogrocery.domain.reports import Moved
from autogrocery.store.markdown_tables import MARKDOWNS_NEWEST
from autogrocery.store.ordering_tables import order_record
from autogrocery.store.statements import Value

QUARTER_HOUR = 900  # seconds
# Where a report stops reading the daily totals and reads the movements themselves:
# every movement stamped before it is in the totals (store/history_fold.py). A period's
# totals are found by their key (type, day): grouped by `+sku`, not `sku`, or the
# planner walks every day of the type in SKU order (movement_days_by_sku) to skip a
# sort (0.4-0.7 s for a week of two years' totals, instead of 35 ms).
_FOLDED = "COALESCE((SELECT value FROM history_marks WHERE key = 'days_through'), 0)"
# The movements after the ledger's checkpoint (store/history_schema.py), read by their
# ids: MATERIALIZED, or the planner would rather walk a whole index in SKU (or lot)
# order to skip a sort of the few rows the tail holds.
_TAIL = (
    "WITH tail AS MATERIALIZED (SELECT sku, lot, delta FROM movements WHERE id > "
    "COALESCE((SELECT value FROM history_marks WHERE key = 'ledger_through'), 0))"
)
# Each SKU's stored on_hand and the sum of its movements: balance at the checkpoint
# plus the tail's (after `_TAIL`).
_SUMS = (
    "SELECT p.sku AS sku, p.on_hand AS on_hand, "
    "COALESCE(b.balance, 0) + COALESCE(t.total, 0) AS ledger "
    "FROM products p LEFT JOIN sku_balances b ON b.sku = p.sku LEFT JOIN "
    "(SELECT sku, SUM(delta) AS total FROM tail GROUP BY sku) t ON t.sku = p.sku"
)
# Orders by kind and status, however long the history, without a write per order:
# those counted into the history keeper's daily totals (ended up to its mark, pruned or
# not), those ended since (orders_by_end), and the open ones (orders_by_status).
ORDER_COUNTS = (
    "SELECT kind, status, SUM(n) FROM ("
    "SELECT kind, status, orders AS n FROM order_days "
    "UNION ALL SELECT kind, status, 1 FROM orders WHERE ended_at > COALESCE("
    "(SELECT value FROM history_marks WHERE key = 'orders_through'), 0) "
    "UNION ALL SELECT kind, status, 1 FROM orders "
    "WHERE status IN ('PREVIEWED', 'PROCESSING')) GROUP BY kind, status ORDER BY kind, status"
)


# When the store opened: kept by the first fold of the daily totals (whose first day
# starts at midnight); before it, the first pruned day or the first movement.
_OPENED = (
    "SELECT COALESCE((SELECT value FROM history_marks WHERE key = 'opened_at'), "  # noqa: S608
    "(SELECT MIN(at) FROM ("
    + " UNION ALL ".join(
        ["SELECT (SELECT MIN(day) FROM movement_days WHERE type = ?) AS at"] * len(MovementType)
    )
    + " UNION ALL SELECT at FROM (SELECT at FROM movements ORDER BY id LIMIT 1))))"
)


class Reader:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, db_path: Path) -> Reader:
        conn = await aiosqlite.connect(db_path)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.execute("PRAGMA query_only=1")
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    async def _rows(self, sql: str, params: Sequence[Value] = ()) -> list[sqlite3.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def _one_order(self, where: str, params: Sequence[Value]) -> OrderRecord | None:
        """The first order `where` finds, with its lines."""
        found = await self._rows(f"SELECT * FROM orders WHERE {where}", params)  # noqa: S608 (our own clauses)
        if not found:
            return None
        lines = await self._rows(
            "SELECT * FROM order_lines WHERE order_id = ? ORDER BY sku, expiry_date",
            (found[0]["order_id"],),
        )
        return order_record(found[0], lines)

    async def order(self, order_id: str, kind: OrderKind, owner: str | None) -> OrderRecord | None:
        found = await self._one_order("order_id = ? AND kind = ?", (order_id, kind.value))
        return found if found is not None and owner in (None, found.owner) else None

    async def made(self, owner: str, request_key: str) -> Made | None:
        """The order or restock `owner` made with this Idempotency-Key, if any."""
        for row in await self._rows(
            "SELECT kind, order_id, request_hash FROM orders "
            "WHERE owner = ? AND request_key = ? AND kind IN (?, ?)",
            (owner, request_key, OrderKind.CUSTOMER.value, OrderKind.RESTOCK.value),
        ):
            return Made(row["kind"], row["order_id"], row["request_hash"])
        return None

    async def transfer(self, transfer_id: str) -> OrderRecord | None:
        """This store's part of a chain's transfer (its order keyed by the transfer id)."""
        return await self._one_order(
            "request_key = ? AND kind IN (?, ?)",
            (transfer_id, OrderKind.TRANSFER_OUT.value, OrderKind.TRANSFER_IN.value),
        )

    async def orders(
        self,
        kind: OrderKind | tuple[OrderKind, ...],
        owner: str | None,
        status: str | None,
        limit: int,
        cursor: int | None,
    ) -> tuple[list[OrderRecord], int | None]:
        """Newest first; `cursor` is the rowid to continue below."""
        kinds = kind if isinstance(kind, tuple) else (kind,)
        found, next_cursor = await self._newest_first(
            "SELECT rowid AS position, * FROM orders",
            "rowid",
            (f"kind IN ({', '.join('?' * len(kinds))})", [k.value for k in kinds]),
            # Likewise an owner's orders come by orders_by_owner, not by status.
            {"owner": owner, "+status" if owner else "status": status},
            limit,
            cursor,
        )
        lines: dict[str, list[sqlite3.Row]] = {row["order_id"]: [] for row in found}
        if found:
            marks = ",".join("?" * len(found))
            for line in await self._rows(
                f"SELECT * FROM order_lines WHERE order_id IN ({marks}) "  # noqa: S608
                "ORDER BY sku, expiry_date",
                list(lines),
            ):
                lines[line["order_id"]].append(line)
        return [order_record(row, lines[row["order_id"]]) for row in found], next_cursor

    async def movements(
        self, sku: str | None, movement_type: str | None, limit: int, cursor: int | None
    ) -> tuple[list[MovementRecord], int | None]:
        found, next_cursor = await self._newest_first(
            "SELECT id AS position, * FROM movements",
            "id",
            ("1 = 1", []),
            # With a SKU, its index (sku, id) is the way in; `+type` keeps the planner
            # off movements_by_type, which would walk every movement of that type.
            {"sku": sku, "+type" if sku else "type": movement_type},
            limit,
            cursor,
        )
        return [
            MovementRecord(
                row["id"],
                row["sku"],
                MovementType(row["type"]),
                row["delta"],
                row["ref"],
                row["user"],
                row["at"],
                row["lot"],
            )
            for row in found
        ], next_cursor

    async def _newest_first(
        self,
        select: str,
        key: str,
        first: tuple[str, list[Value]],
        equal: dict[str, Value],
        limit: int,
        cursor: int | None,
    ) -> tuple[list[sqlite3.Row], int | None]:
        """A page of `select`'s rows, newest (highest `key`) first: those matching the
        `first` condition and each column of `equal` whose value is not None, below
        `cursor`. Keyset-paged: the next page's cursor is the last row's `position`
        (the key, selected under that name), None on the last page."""
        condition, bound = first
        where, params = [condition], list(bound)
        for column, value in equal.items():
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if cursor is not None:
            where.append(f"{key} < ?")
            params.append(cursor)
        sql = f"{select} WHERE {' AND '.join(where)} ORDER BY {key} DESC LIMIT ?"
        found = await self._rows(sql, (*params, limit + 1))
        next_cursor = found[limit - 1]["position"] if len(found) > limit else None
        return found[:limit], next_cursor

    async def moved(
        self, kind: str, since: float, until: float, *, costed: bool = True
    ) -> list[Moved]:
        """Movements of one type between two instants, summed in SQL per SKU, lot cost and
        quarter hour (today's time zones are all offset by whole quarter hours, so each
        sum falls in one store day): a report reads hundreds of rows, not one per
        movement. Movements are stamped with the present time, so `at` > 0. Without
        `costed`, every cost reads as 0 and no lot is looked up (usage needs none). Days
        in the daily totals (`_FOLDED`: folded, and perhaps pruned) come from them
        (stamped with the day's first second), in the same statement, so a day folded
        meanwhile counts once."""
        cost = "COALESCE(l.unit_cost, 0)" if costed else "0"
        lots = "LEFT JOIN lots l ON l.lot_id = m.lot " if costed else ""
        rows = await self._rows(
            f"SELECT m.sku, SUM(m.delta), CAST(m.at / ? AS INTEGER) * ? AS bucket, "  # noqa: S608
            f"{cost} AS cost FROM movements m {lots}"
            f"WHERE m.type = ? AND m.at >= MAX(?, {_FOLDED}) AND m.at < ? "
            "GROUP BY m.sku, bucket, cost "
            f"UNION ALL SELECT sku, SUM(quantity), day, {'cost' if costed else '0'} "
            "FROM movement_days WHERE type = ? AND day >= ? AND day < ? GROUP BY +sku, 3, 4",
            (QUARTER_HOUR, QUARTER_HOUR, kind, since, until, kind, since, until),
        )
        return [Moved(row[0], row[1], row[2], row[3]) for row in rows]

    async def used(self, kind: str, since: float, until: float) -> dict[str, int]:
        """Units each SKU moved out by movements of one type between two instants (as
        a positive count), the days in the daily totals from them: one sum per SKU. The
        index is named: the planner would rather walk every movement of the type in
        SKU order (0.86 s for a week of a 50,000-SKU store) than sort 24,000 sums
        (0.09 s)."""
        rows = await self._rows(
            "SELECT sku, -SUM(delta) FROM movements INDEXED BY movements_for_reports "  # noqa: S608
            f"WHERE type = ? AND at >= MAX(?, {_FOLDED}) AND at < ? GROUP BY sku "
            "UNION ALL SELECT sku, -SUM(quantity) FROM movement_days "
            "WHERE type = ? AND day >= ? AND day < ? GROUP BY +sku",
            (kind, since, until, kind, since, until),
        )
        used: dict[str, int] = {}
        for sku, units in rows:
            used[sku] = used.get(sku, 0) + units
        return used

    async def markdown_effect(self, since: float, until: float) -> tuple[int, int, int, int]:
        """Between two instants: the units written off from lots that had a markdown (since
        before the write-off) and their cost, then the units sold at a markdown price and
        what they were billed. Both kept apart from the movements (markdown_waste, by a
        trigger; markdown_sales), so pruning history changes neither."""
        wasted = await self._rows(
            "SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(value), 0) FROM markdown_waste"
            " WHERE at >= ? AND at < ?",
            (since, until),
        )
        sold = await self._rows(
            "SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(quantity * unit_price), 0) "
            "FROM markdown_sales WHERE at >= ? AND at < ?",
            (since, until),
        )
        return int(wasted[0][0]), int(wasted[0][1]), int(sold[0][0]), int(sold[0][1])

    async def markdowns(
        self, after: tuple[float, str] | None, limit: int, at: float, *, ended_too: bool
    ) -> list[MarkdownSold]:
        """Lots' markdowns, newest first, after the one keyed `after` (its start and lot
        id), with the units sold at each and what they were billed; without `ended_too`,
        only those not over at `at`."""
        since, lot_id = after or (float("inf"), "")
        rows = await self._rows(MARKDOWNS_NEWEST, (since, since, lot_id, ended_too, at, limit))
        return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    async def opened(self) -> float | None:
        """When the store opened: its first movement (the opening stock), kept by the
        first fold of the daily totals; before that, its first pruned day or its first
        movement; None if it has none. The totals' first day is looked up per type
        (their key begins with it): a MIN over the whole table read every row of it
        (0.5-0.8 s for two years of 50,000 SKUs)."""
        rows = await self._rows(_OPENED, tuple(MovementType))
        return float(rows[0][0]) if rows and rows[0][0] is not None else None

    async def lot_ledger(self) -> list[tuple[str, int, int]]:
        """Each lot's on_hand and the sum of its movements (its balance at the ledger's
        checkpoint plus the movements after it), in one snapshot. Lots and balances are
        both keyed by lot: read side by side in that order (ORDER BY), not through
        lots_by_sku and a lookup per lot (2.7 s, not 16 s, for 951,030 lots)."""
        rows = await self._rows(
            f"{_TAIL} SELECT l.lot_id, l.on_hand, "  # noqa: S608
            "COALESCE(b.balance, 0) + COALESCE(t.total, 0) "
            "FROM lots l LEFT JOIN ledger_balances b ON b.lot = l.lot_id LEFT JOIN "
            "(SELECT lot, SUM(delta) AS total FROM tail GROUP BY lot) t ON t.lot = l.lot_id "
            "ORDER BY l.lot_id"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def ledger(self) -> dict[str, tuple[int, int]]:
        """Each SKU's stored on_hand and the sum of its movements (its balance at the
        ledger's checkpoint plus the movements after it), in one snapshot."""
        rows = await self._rows(f"{_TAIL} {_SUMS}")
        return {row[0]: (row[1], row[2]) for row in rows}

    async def ledger_disagreements(self) -> tuple[int, dict[str, tuple[int, int]]]:
        """How many SKUs there are, and the stored on_hand and ledger sum of those whose
        two disagree, in one snapshot (one statement: its last row is the count)."""
        rows = await self._rows(
            f"{_TAIL}, sums AS ({_SUMS}) "  # noqa: S608
            "SELECT sku, on_hand, ledger FROM sums WHERE on_hand != ledger "
            "UNION ALL SELECT NULL, COUNT(*), NULL FROM products"
        )
        *wrong, (_, checked, _) = rows
        return checked, {row[0]: (row[1], row[2]) for row in wrong}

    async def ledger_of(self, skus: Sequence[str]) -> dict[str, tuple[int, int]]:
        """The stored on_hand and ledger sum of these SKUs (unknown ones left out)."""
        if not skus:
            return {}
        marks = ",".join("?" * len(skus))
        rows = await self._rows(
            f"{_TAIL}, sums AS ({_SUMS} WHERE p.sku IN ({marks})) "  # noqa: S608
            "SELECT sku, on_hand, ledger FROM sums",
            list(skus),
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    async def ledger_page(self, after: str, limit: int) -> dict[str, tuple[int, int]]:
        """The stored on_hand and ledger sum of up to `limit` SKUs after `after`, in SKU
        order (the products' key: a page reads its own SKUs, not every one)."""
        rows = await self._rows(
            f"{_TAIL}, sums AS ({_SUMS} WHERE p.sku > ? ORDER BY p.sku LIMIT ?) "  # noqa: S608
            "SELECT sku, on_hand, ledger FROM sums ORDER BY sku",
            (after, limit),
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    async def moved_page(
        self,
        kind: str,
        runs: list[tuple[float, float, float]],
        after: str,
        limit: int,
        *,
        costed: bool,
    ) -> list[Moved]:
        """As `moved`, for only the first `limit` SKUs after `after` (SKU order) that moved
        so in the period: each SKU's movements are found by index, so a page reads its own
        SKUs' rows whatever the period's length, and the store's other SKUs not at all.
        The period is the store's days, as `domain.reports.day_runs` gives them, and the
        sums are per day (a year of a SKU sold every quarter hour is 366 rows, not 35,000)."""
        since, until = runs[0][0], runs[-1][1]
        # The start of a movement's day: in its run, the run's start + whole days.
        day = "CASE " + "WHEN m.at < ? THEN ? + CAST((m.at - ?) / ? AS INTEGER) * ? " * len(runs)
        days = [v for start, end, length in runs for v in (end, start, start, length, length)]
        cost = "COALESCE(l.unit_cost, 0)" if costed else "0"
        lots = "LEFT JOIN lots l ON l.lot_id = m.lot " if costed else ""
        period = (kind, since, until) * 2  # movements, then daily totals
        # CROSS JOIN: the page drives (SQLite keeps that order), or the planner would
        # rather walk every movement of the type and look each one's SKU up in the page.
        rows = await self._rows(
            "WITH page AS MATERIALIZED (SELECT p.sku FROM products p WHERE p.sku > ? AND ("  # noqa: S608
            "EXISTS (SELECT 1 FROM movements m WHERE m.type = ? AND m.sku = p.sku "
            "AND m.at >= ? AND m.at < ?) OR EXISTS (SELECT 1 FROM movement_days d "
            "INDEXED BY movement_days_by_sku "
            "WHERE d.type = ? AND d.sku = p.sku AND d.day >= ? AND d.day < ?)) "
            "ORDER BY p.sku LIMIT ?) "
            f"SELECT m.sku, SUM(m.delta), {day}END AS bucket, "
            f"{cost} AS cost FROM page CROSS JOIN movements m "
            f"ON m.type = ? AND m.sku = page.sku AND m.at >= MAX(?, {_FOLDED}) AND m.at < ? "
            f"{lots}GROUP BY m.sku, bucket, cost "
            f"UNION ALL SELECT d.sku, SUM(d.quantity), d.day, {'d.cost' if costed else '0'} "
            "FROM page CROSS JOIN movement_days d INDEXED BY movement_days_by_sku "
            "ON d.type = ? AND d.sku = page.sku AND d.day >= ? AND d.day < ? GROUP BY 1, 3, 4",
            [after, *period, limit, *days, *period],
        )
        return [Moved(row[0], row[1], row[2], row[3]) for row in rows]

    async def order_counts(self) -> list[tuple[str, str, int]]:
        """Orders by kind and status: those counted into the daily totals (ended up to
        the mark, pruned or not), those ended since, and the open ones."""
        rows = await self._rows(ORDER_COUNTS)
        return [(row[0], row[1], row[2]) for row in rows]

    async def writable(self) -> bool:
        rows = await self._rows("PRAGMA quick_check")
        return bool(rows) and rows[0][0] == "ok"

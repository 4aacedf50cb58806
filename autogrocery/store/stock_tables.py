"""SQL for the stock actor's tables: products, movements, stock_settlements, alerts.

What open orders hold is not stored here: it is read, at start, from the open
orders that stock has not settled (their lines are the durable reservation).
"""

from __future__ import annotations

from collections.abc import Iterator

from autogrocery.domain.models import OrderLine
from autogrocery.store.shared import SharedConnection
from autogrocery.store.statements import Delete, Insert, Update

UPDATE_LEVEL = Update("products", "sku", ("on_hand",))
UPDATE_PRODUCT = Update(
    "products",
    "sku",
    (
        "name",
        "aisle",
        "unit",
        "min_level",
        "price",
        "unit_cost",
        "priced_at",
        "details",
        "details_version",
    ),
)
INSERT_PRODUCT = Insert(
    "products",
    (
        "sku",
        "name",
        "aisle",
        "unit",
        "on_hand",
        "min_level",
        "price",
        "unit_cost",
        "priced_at",
        "details",
        "details_version",
    ),
)
SET_META = Insert("stock_meta", ("key", "value"), conflict="OR REPLACE")
INSERT_MOVEMENT = Insert("movements", ("sku", "type", "delta", "ref", "user", "at", "lot"))
INSERT_LOT = Insert(
    "lots",
    ("lot_id", "sku", "expiry_date", "mfd_date", "unit_cost", "on_hand", "received_at", "ref"),
)
UPDATE_LOT = Update("lots", "lot_id", ("on_hand", "unit_cost"))
RAISE_EXPIRY = Insert(
    "expiry_alerts",
    ("lot_id", "sku", "expiry_date", "quantity", "raised_at"),
    conflict="OR REPLACE",
)
CLEAR_EXPIRY = Delete("expiry_alerts", "lot_id")
INSERT_SETTLEMENT = Insert("stock_settlements", ("order_id", "kind", "at"))
RAISE_ALERT = Insert(
    "alerts", ("sku", "available", "min_level", "raised_at"), conflict="OR REPLACE"
)
CLEAR_ALERT = Delete("alerts", "sku")
INSERT_NOTICE = Insert("notices", ("type", "at", "facts"))  # store/notify_schema.py

# The columns of INSERT_LOT, INSERT_PRODUCT and UPDATE_PRODUCT, in order.
LotInsert = tuple[str, str, str | None, str | None, int, int, float, str | None]
ProductInsert = tuple[str, str, str, str, int, int, int, int, float | None, str | None, int]
ProductUpdate = tuple[str, str, str, int, int, int, float | None, str | None, int, str]

# A row of `StockTables.products`: sku, name, aisle, unit, min_level, price, unit_cost,
# priced_at, details, details_version.
ProductRow = tuple[str, str, str, str, int, int, int, float | None, str | None, int]
# A row of `StockTables.lots`: lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand,
# received_at.
LotRow = tuple[str, str, str | None, str | None, int, int, float]


# The lots the stock actor keeps: by the index migration 15 made for exactly this WHERE.
LIVE_LOTS = (
    "SELECT lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand, received_at "
    "FROM lots WHERE on_hand > 0 OR expiry_date IS NULL"
)


class StockTables:
    def __init__(self, db: SharedConnection) -> None:
        self.db = db

    def products(self) -> Iterator[ProductRow]:
        """sku, name, aisle, unit, min_level, price, unit_cost, priced_at, details and
        details_version of every product, row by row (tuples: cheaper than named rows).
        Read it to its end before other statements on the connection."""
        with self.db.reading() as conn:
            yield from conn.execute(
                "SELECT sku, name, aisle, unit, min_level, price, unit_cost, priced_at, "
                "details, details_version FROM products"
            )

    def lots(self) -> Iterator[LotRow]:
        """lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand and received_at of the
        lots with stock, and of every undated lot (the one a SKU's undated stock goes
        to), row by row. Emptied dated lots stay in the store, for the ledger, not in
        memory."""
        with self.db.reading() as conn:
            yield from conn.execute(LIVE_LOTS)

    def expiry_alerts(self) -> dict[str, float]:
        """lot id -> when its expiry alert was raised."""
        return {
            row[0]: row[1] for row in self.db.execute("SELECT lot_id, raised_at FROM expiry_alerts")
        }

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM stock_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def alerts(self) -> dict[str, float]:
        """sku -> when its low-stock alert was raised."""
        return {row[0]: row[1] for row in self.db.execute("SELECT sku, raised_at FROM alerts")}

    def holds(self) -> dict[str, tuple[OrderLine, ...]]:
        """The lines of every customer order and transfer out that holds stock:
        previewed or processing, and not settled yet, oldest order first."""
        held: dict[str, list[OrderLine]] = {}
        for row in self.db.execute(
            "SELECT l.order_id, l.sku, l.name, l.aisle, l.quantity, l.unit_price "
            "FROM orders o JOIN order_lines l USING (order_id) "
            "WHERE o.kind IN ('CUSTOMER', 'TRANSFER_OUT') "
            "AND o.status IN ('PREVIEWED', 'PROCESSING') "
            "AND NOT EXISTS (SELECT 1 FROM stock_settlements s WHERE s.order_id = o.order_id) "
            "ORDER BY o.rowid, l.sku"
        ):
            held.setdefault(row[0], []).append(OrderLine(*row[1:]))
        return {order_id: tuple(lines) for order_id, lines in held.items()}

    def settled(self, order_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM stock_settlements WHERE order_id = ?", (order_id,)
        ).fetchone()
        return row is not None

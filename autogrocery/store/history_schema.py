"""Migration 12: history at scale (the ledger's checkpoint, daily totals, and indexes
for the request path), and the statements that fold the whole ledger at once.

The ledger's checkpoint: `ledger_balances` holds, per lot, the sum of its movements up
to movement id `history_marks['ledger_through']`; `sku_balances` the same per SKU.
Reconcile checks on_hand against checkpoint + the movements after it (the tail), so it
reads a few rows per SKU instead of every movement it ever had; the keeper
(store/history_keeper.py) moves the checkpoint on from the movements themselves, never
from on_hand, so a level that drifted from its ledger still shows. Pruned movements
were folded into the checkpoint before they go (only ids at or below it are pruned).
`movement_days` (per store day, type, SKU and lot cost) holds, for the reports, every
day that is over since migration 16's version (store/history_fold.py), and before it
only the days pruned.

`order_days` counts ended orders (per UTC day, kind and status, with their totals) up
to ended_at `history_marks['orders_through']`: an ended order never changes again, so
the counts by kind and status (the metrics tick reads them every second) are these
plus the orders that ended after the mark and the open ones, both by index. An order
is pruned only once counted.

`movements_for_reports` covers the reports' reads (type, time, SKU, delta, lot): a
week's usage is read from the index alone, not from a row per movement.
"""

# The checkpoint through every movement there is: a store upgraded to this schema, and
# tools/fill_history after its bulk load. Each statement on its own (no ';' inside).
FOLD_WHOLE_LEDGER = (
    "DELETE FROM ledger_balances",
    "DELETE FROM sku_balances",
    "INSERT OR REPLACE INTO history_marks (key, value) "
    "VALUES ('ledger_through', COALESCE((SELECT MAX(id) FROM movements), 0))",
    "INSERT INTO ledger_balances (lot, sku, balance) "
    "SELECT lot, MIN(sku), SUM(delta) FROM movements WHERE lot IS NOT NULL GROUP BY lot",
    "INSERT INTO sku_balances (sku, balance) SELECT sku, SUM(delta) FROM movements GROUP BY sku",
    "DELETE FROM order_days",
    "INSERT OR REPLACE INTO history_marks (key, value) "
    "VALUES ('orders_through', COALESCE((SELECT MAX(ended_at) FROM orders), 0))",
    "INSERT INTO order_days (kind, status, day, orders, total) "
    "SELECT kind, status, CAST(ended_at / 86400 AS INTEGER) * 86400 AS day, COUNT(*), "
    "SUM(total) FROM orders WHERE ended_at IS NOT NULL GROUP BY kind, status, day",
)

HISTORY_AT_SCALE = (
    """
    CREATE INDEX movements_by_type ON movements (type, id);
    DROP INDEX movements_by_type_time;
    CREATE INDEX movements_for_reports ON movements (type, at, sku, delta, lot);
    CREATE INDEX orders_by_status ON orders (status, kind);
    CREATE INDEX orders_by_end ON orders (ended_at) WHERE ended_at IS NOT NULL;
    CREATE TABLE history_marks (key TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;
    CREATE TABLE ledger_balances (
        lot TEXT PRIMARY KEY,
        sku TEXT NOT NULL,
        balance INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE sku_balances (sku TEXT PRIMARY KEY, balance INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE movement_days (
        type TEXT NOT NULL,
        day REAL NOT NULL,
        sku TEXT NOT NULL,
        cost INTEGER NOT NULL,
        quantity INTEGER NOT NULL,
        movements INTEGER NOT NULL,
        PRIMARY KEY (type, day, sku, cost)
    ) WITHOUT ROWID;
    CREATE TABLE order_days (
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        day REAL NOT NULL,
        orders INTEGER NOT NULL,
        total INTEGER NOT NULL,
        PRIMARY KEY (kind, status, day)
    ) WITHOUT ROWID;
    """
    + ";\n".join(FOLD_WHOLE_LEDGER)
    + ";"
)

"""Schema migrations, applied in order by `PRAGMA user_version`.

Table owners (the only writer of each table), as of the newest version:
  stock:       products (levels, prices, details), lots, markdowns, markdown_sales,
               movements, stock_settlements, alerts, expiry_alerts, stock_meta, notices;
               with its orders part (ordering.py):
               orders (their history in time columns), order_lines, metrics_outbox,
               chain_outbox (append only; the relay deletes what the head office has)
  relay:       chain_link (autogrocery/chain/relay.py);  fulfilment: tasks
  analytics:   latencies (and by SQLite's triggers latency_buckets: store/tallies.py)
  api:         accounts, refresh_tokens, revoked_tokens, idempotency_keys; original_logins,
               restock_suppliers (api/compat); webhooks, webhook_deliveries, and the pruning
               of notices (api/webhooks.py); notification_preferences, mail_outbox
               (api/mail_planner.py, api/mailer.py); robot and head-office notices
               (api/notice_watch.py);  store: write_probe (SharedConnection.probe_write)
  history keeper (store/history_keeper.py): ledger_balances, sku_balances, movement_days,
               order_days, history_marks; and, as the relay deletes from chain_outbox,
               the pruning of what the owners above append and never change again (movements,
               ended orders with their lines, settlements, tasks, metrics_outbox, latencies)
"""

from autogrocery.store.history_schema import HISTORY_AT_SCALE
from autogrocery.store.mail_schema import MAIL_TABLES
from autogrocery.store.markdown_schema import MARKDOWNS
from autogrocery.store.notify_schema import NOTIFY_TABLES
from autogrocery.store.pages_schema import FEWER_PAGES
from autogrocery.store.report_schema import DAY_TOTALS_BY_SKU, PAGED_REPORTS
from autogrocery.store.request_schema import REQUEST_HASHES
from autogrocery.store.start_schema import LIVE_LOTS
from autogrocery.store.tallies import LATENCY_BUCKETS

MIGRATIONS: list[str] = [
    """
    CREATE TABLE products (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        aisle TEXT NOT NULL,
        unit TEXT NOT NULL,
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
        min_level INTEGER NOT NULL CHECK (min_level >= 0)
    );
    CREATE TABLE movements (
        id INTEGER PRIMARY KEY,
        sku TEXT NOT NULL,
        type TEXT NOT NULL,
        delta INTEGER NOT NULL,
        ref TEXT,
        user TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX movements_by_sku ON movements (sku, id);
    CREATE TABLE stock_orders (
        order_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        expires_at REAL
    );
    CREATE INDEX stock_orders_open ON stock_orders (state)
        WHERE state IN ('RESERVED', 'DISPATCHED');
    CREATE TABLE stock_lines (
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        unit_price INTEGER NOT NULL,
        unit_cost INTEGER NOT NULL,
        PRIMARY KEY (order_id, sku)
    ) WITHOUT ROWID;
    CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        op TEXT NOT NULL,
        aisle TEXT NOT NULL,
        lines TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        robot_id TEXT,
        updated_at REAL NOT NULL
    );
    CREATE INDEX tasks_by_order ON tasks (order_id);
    CREATE TABLE alerts (
        sku TEXT PRIMARY KEY,
        available INTEGER NOT NULL,
        min_level INTEGER NOT NULL,
        raised_at REAL NOT NULL
    );

    CREATE TABLE prices (
        sku TEXT PRIMARY KEY,
        price INTEGER NOT NULL CHECK (price > 0),
        unit_cost INTEGER NOT NULL CHECK (unit_cost >= 0),
        updated_at REAL NOT NULL
    );
    CREATE TABLE bills (
        order_id TEXT PRIMARY KEY,
        total INTEGER NOT NULL,
        billed_at REAL NOT NULL
    );
    CREATE TABLE repricings (
        order_id TEXT PRIMARY KEY,
        at REAL NOT NULL
    );

    CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        total INTEGER NOT NULL,
        items INTEGER NOT NULL,
        created_at REAL NOT NULL,
        confirmed_at REAL,
        completed_at REAL,
        expires_at REAL,
        reason TEXT
    );
    CREATE INDEX orders_by_owner ON orders (owner);
    CREATE INDEX orders_open ON orders (status, expires_at)
        WHERE status IN ('PREVIEWED', 'PROCESSING');
    CREATE TABLE order_lines (
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        aisle TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        unit_price INTEGER NOT NULL,
        PRIMARY KEY (order_id, sku)
    ) WITHOUT ROWID;
    CREATE TABLE order_history (
        order_id TEXT NOT NULL,
        status TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX order_history_by_order ON order_history (order_id);
    CREATE TABLE metrics_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        order_kind TEXT NOT NULL,
        order_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        items INTEGER NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL NOT NULL
    );

    CREATE TABLE latencies (
        seq INTEGER PRIMARY KEY,
        order_kind TEXT NOT NULL,
        order_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        items INTEGER NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL NOT NULL,
        latency_ms REAL NOT NULL
    );
    CREATE INDEX latencies_by_finish ON latencies (order_kind, finished_at);
    CREATE INDEX latencies_by_latency ON latencies (order_kind, status, latency_ms);
    """,
    """
    CREATE TABLE accounts (
        user_id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash BLOB NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('device', 'truck', 'operator')),
        email TEXT,
        phone TEXT,
        created_at REAL NOT NULL
    );
    CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        family_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        used_at REAL,
        revoked_at REAL
    );
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
    CREATE TABLE idempotency_keys (
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        route TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        response BLOB NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (user_id, key)
    ) WITHOUT ROWID;
    ALTER TABLE orders ADD COLUMN request_key TEXT;
    CREATE UNIQUE INDEX orders_by_request_key ON orders (owner, request_key)
        WHERE request_key IS NOT NULL;
    """,
    # 3: the batched core. What stock holds for open orders is derived from ordering's
    # open orders (their lines are the durable reservation), so stock_orders and
    # stock_lines go; stock_settlements records, once, that an order's stock was taken
    # (or a restock's shelved). Prices move onto products (stock owns them), and the
    # bill is the order's total at completion: prices, bills and repricings go.
    """
    CREATE TABLE products_v3 (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        aisle TEXT NOT NULL,
        unit TEXT NOT NULL,
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        min_level INTEGER NOT NULL CHECK (min_level >= 0),
        price INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0),
        unit_cost INTEGER NOT NULL DEFAULT 0 CHECK (unit_cost >= 0),
        priced_at REAL
    );
    INSERT INTO products_v3 (sku, name, aisle, unit, on_hand, min_level, price, unit_cost,
                             priced_at)
        SELECT p.sku, p.name, p.aisle, p.unit, p.on_hand, p.min_level,
               COALESCE(c.price, 0), COALESCE(c.unit_cost, 0), c.updated_at
        FROM products p LEFT JOIN prices c USING (sku);
    DROP TABLE products;
    ALTER TABLE products_v3 RENAME TO products;
    CREATE TABLE stock_settlements (
        order_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        at REAL NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO stock_settlements (order_id, kind, at)
        SELECT order_id, kind, 0 FROM stock_orders WHERE state = 'FINALIZED';
    DROP TABLE stock_orders;
    DROP TABLE stock_lines;
    DROP TABLE prices;
    DROP TABLE bills;
    DROP TABLE repricings;
    """,
    # 4: an order's history is its time columns (created, confirmed, completed, ended),
    # not a second table: one row written per change instead of two.
    """
    ALTER TABLE orders ADD COLUMN ended_at REAL;
    UPDATE orders SET ended_at = (
        SELECT MAX(h.at) FROM order_history h
        WHERE h.order_id = orders.order_id AND h.status = orders.status
    ) WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED');
    UPDATE orders SET ended_at = COALESCE(completed_at, created_at)
        WHERE ended_at IS NULL AND status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED');
    DROP TABLE order_history;
    """,
    # 5: the original devices' compatibility layer (api/compat). Logins made there keep
    # one refresh token (the original clients never rotate it); the original truck UI
    # sends a supplier and, per line, a manufacture and an expiry date, which a restock
    # does not hold yet. Each restock_line_dates row is a quantity of a SKU from one
    # restock with its dates: what the expiry (lots) work takes over.
    """
    CREATE TABLE original_logins (
        family_id TEXT PRIMARY KEY,
        created_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE restock_suppliers (
        restock_id TEXT PRIMARY KEY,
        supplier_id TEXT NOT NULL,
        supplier_name TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE restock_line_dates (
        restock_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        mfd_date TEXT,
        expiry_date TEXT
    );
    CREATE INDEX restock_line_dates_by_restock ON restock_line_dates (restock_id);
    """,
    # 6: lots. Stock is held in lots (a SKU's on_hand is the sum of its lots'); a dated
    # restock line becomes a lot with its best-before date, an undated one adds to the
    # SKU's undated lot (all stock so far). Every movement names its lot. A restock
    # line carries its dates itself (taken over from the compat layer's table), and one
    # restock may bring a SKU in lines of different dates ('' is undated).
    """
    CREATE TABLE order_lines_v6 (
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        aisle TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        unit_price INTEGER NOT NULL,
        expiry_date TEXT NOT NULL DEFAULT '',
        mfd_date TEXT,
        PRIMARY KEY (order_id, sku, expiry_date)
    ) WITHOUT ROWID;
    INSERT INTO order_lines_v6 (order_id, sku, name, aisle, quantity, unit_price,
                                expiry_date, mfd_date)
        SELECT l.order_id, l.sku, l.name, l.aisle, l.quantity, l.unit_price,
               COALESCE(d.expiry_date, ''), d.mfd_date
        FROM order_lines l LEFT JOIN (
            SELECT restock_id, sku, MIN(expiry_date) AS expiry_date, MIN(mfd_date) AS mfd_date
            FROM restock_line_dates GROUP BY restock_id, sku
            HAVING COUNT(DISTINCT COALESCE(expiry_date, '')) = 1
        ) d ON d.restock_id = l.order_id AND d.sku = l.sku;
    DROP TABLE order_lines;
    ALTER TABLE order_lines_v6 RENAME TO order_lines;
    DROP TABLE restock_line_dates;
    CREATE TABLE lots (
        lot_id TEXT PRIMARY KEY,
        sku TEXT NOT NULL,
        expiry_date TEXT,
        mfd_date TEXT,
        unit_cost INTEGER NOT NULL CHECK (unit_cost >= 0),
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        received_at REAL NOT NULL,
        ref TEXT
    ) WITHOUT ROWID;
    CREATE INDEX lots_by_sku ON lots (sku);
    INSERT INTO lots (lot_id, sku, expiry_date, mfd_date, unit_cost, on_hand, received_at, ref)
        SELECT sku || '/undated', sku, NULL, NULL, unit_cost, on_hand,
               COALESCE(priced_at, 0), NULL
        FROM products;
    ALTER TABLE movements ADD COLUMN lot TEXT;
    UPDATE movements SET lot = sku || '/undated';
    CREATE TABLE expiry_alerts (
        lot_id TEXT PRIMARY KEY,
        sku TEXT NOT NULL,
        expiry_date TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        raised_at REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 7: revocation that outlives a restart. An account can be disabled (its tokens stop
    # at once); revoked_tokens holds what kills an access token before its `exp` (a
    # logged-out token's jti, a revoked login's refresh family) until that `exp` passes.
    """
    ALTER TABLE accounts ADD COLUMN disabled_at REAL;
    CREATE TABLE revoked_tokens (
        kind TEXT NOT NULL CHECK (kind IN ('jti', 'family')),
        id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
    """,
    # 8: the reports read one movement type over a period.
    """
    CREATE INDEX movements_by_type_time ON movements (type, at);
    """,
    # 9: after a write failed (a full disk), a write that needs new space tells when.
    """
    CREATE TABLE write_probe (id INTEGER PRIMARY KEY, filler BLOB NOT NULL);
    """,
    # 10: a chain of stores (docs/chain.md). chain_outbox: what the head office needs,
    # appended by stock and ordering in the transaction of the change (seq, never
    # reused, is the event id); chain_link: the relay's state; stock_meta: stock's own
    # values (the catalog version it applied; the catalog file's digest, db.describe).
    # products.details: what describes a product (from the catalog file while
    # details_version is 0, else from that catalog version of the head office).
    """
    CREATE TABLE chain_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        at REAL NOT NULL,
        facts BLOB NOT NULL
    );
    CREATE TABLE chain_link (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        epoch INTEGER NOT NULL,
        sent INTEGER NOT NULL,
        hwm INTEGER NOT NULL,
        hwm_at REAL
    );
    CREATE TABLE stock_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    ALTER TABLE products ADD COLUMN details TEXT;
    ALTER TABLE products ADD COLUMN details_version INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX orders_by_transfer ON orders (request_key)
        WHERE kind IN ('TRANSFER_OUT', 'TRANSFER_IN');
    """,
    FEWER_PAGES,  # 11: tasks and metrics_outbox in fewer b-trees
    LATENCY_BUCKETS,  # 12: analytics' latency histogram, kept by triggers
    HISTORY_AT_SCALE,  # 13: the ledger's checkpoint, daily totals, request-path indexes
    PAGED_REPORTS,  # 14: a report page's SKUs found by index
    LIVE_LOTS,  # 15: the lots loaded at start, found by index
    DAY_TOTALS_BY_SKU,  # 16: a SKU's daily totals read from the index alone
    REQUEST_HASHES,  # 17: a keyed order's request digest, beside its key
    NOTIFY_TABLES,  # 18: notices, webhooks and their deliveries
    MAIL_TABLES,  # 19: operators' notification preferences, and the mail outbox
    MARKDOWNS,  # 20: lots' markdowns and the units sold at them
]

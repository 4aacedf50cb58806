"""Migration 18: markdowns (stock owns both tables). A lot's markdown is its price until
`until` (null: until the lot is gone or expires); an operator ending it sets `until` to
that moment, so the row stays: the waste report tells lots that had a markdown from
those that had none. markdown_sales: the units a customer order took from a lot at its
markdown price, written once when the order settles (the price ledger of markdowns).
"""

MARKDOWNS = """
    CREATE TABLE markdowns (
        lot_id TEXT PRIMARY KEY,
        sku TEXT NOT NULL,
        price INTEGER NOT NULL CHECK (price > 0),
        since REAL NOT NULL,
        until REAL,
        user TEXT
    ) WITHOUT ROWID;
    CREATE TABLE markdown_sales (
        order_id TEXT NOT NULL,
        lot_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_price INTEGER NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (order_id, lot_id)
    ) WITHOUT ROWID;
    CREATE INDEX markdown_sales_by_time ON markdown_sales (at, quantity, unit_price);
    CREATE INDEX markdown_sales_by_lot ON markdown_sales (lot_id, quantity, unit_price);
    CREATE INDEX markdowns_newest ON markdowns (since, lot_id);
"""

"""Migration 20: markdowns (stock owns both tables). A lot's markdown is its price until
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
    CREATE TABLE markdown_waste (
        movement_id INTEGER PRIMARY KEY,
        lot_id TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        value INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX markdown_waste_by_time ON markdown_waste (at, quantity, value);
    CREATE TRIGGER markdown_waste_kept AFTER INSERT ON movements
    WHEN NEW.type = 'WASTE' AND NEW.lot IS NOT NULL
    BEGIN
        INSERT INTO markdown_waste (movement_id, lot_id, quantity, value, at)
        SELECT NEW.id, NEW.lot, -NEW.delta, -NEW.delta * l.unit_cost, NEW.at
        FROM markdowns k JOIN lots l ON l.lot_id = k.lot_id
        WHERE k.lot_id = NEW.lot AND k.since <= NEW.at;
    END;
"""

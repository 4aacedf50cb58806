"""Migration 18: alerts that reach people (docs/operating.md, "Webhooks").

notices: what stock raised or cleared, appended in the transaction that changed the
alert (its `facts`: the alert's plain values, rendered as the event socket renders
them). Owned by stock, appended only; the notifier deletes the ones every webhook has
passed once they are a week old.

webhooks and webhook_deliveries: the notifier's (api/webhooks.py). A webhook's
`after_seq` is the last notice it has looked at; moving it and queueing that notice's
delivery are one transaction, and a notice is queued at most once per webhook (the
UNIQUE key), so nothing committed is lost across a kill -9 and nothing is sent twice
but by a retry.
"""

NOTIFY_TABLES = """
    CREATE TABLE notices (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        at REAL NOT NULL,
        facts TEXT NOT NULL
    );
    CREATE TABLE webhooks (
        webhook_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        secret TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        after_seq INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE webhook_deliveries (
        delivery_id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        next_at REAL NOT NULL,
        finished_at REAL,
        tries TEXT NOT NULL DEFAULT '[]',
        UNIQUE (webhook_id, seq)
    );
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq)
        WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at)
        WHERE status != 'pending';
    CREATE INDEX notices_by_time ON notices (at);
"""

"""Migrations 12 and 13: running tallies that SQLite keeps itself, in the transaction
of the row they count, so that a question about all of history reads a few rows.

- `order_counts`: orders by kind and status (the metrics tick and `/metrics` ask each
  second; a GROUP BY over every order took 1.3 s at 2M orders).
- `latency_buckets`: analytics' latencies by kind, status and latency rounded to three
  significant digits (`printf('%.2e')`: 900 buckets a decade, each within 0.5% of the
  latencies it holds), for the summary's counts and percentiles.

Triggers keep them: the owner of `orders` (ordering) and of `latencies` (analytics)
writes its rows as before and the tally follows in the same statement; a crash cannot
separate them. Each migration fills its tally from the rows already there.
"""

from __future__ import annotations

LATENCY_BUCKETS = """
    CREATE TABLE latency_buckets (
        order_kind TEXT NOT NULL,
        status TEXT NOT NULL,
        bucket REAL NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (order_kind, status, bucket)
    ) WITHOUT ROWID;
    INSERT INTO latency_buckets (order_kind, status, bucket, n)
        SELECT order_kind, status, CAST(printf('%.2e', latency_ms) AS REAL), COUNT(*)
        FROM latencies GROUP BY 1, 2, 3;
    CREATE TRIGGER latency_buckets_insert AFTER INSERT ON latencies BEGIN
        INSERT INTO latency_buckets (order_kind, status, bucket, n)
            VALUES (NEW.order_kind, NEW.status,
                    CAST(printf('%.2e', NEW.latency_ms) AS REAL), 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER latency_buckets_delete AFTER DELETE ON latencies BEGIN
        UPDATE latency_buckets SET n = n - 1
            WHERE order_kind = OLD.order_kind AND status = OLD.status
            AND bucket = CAST(printf('%.2e', OLD.latency_ms) AS REAL);
    END;
    CREATE TRIGGER latency_buckets_update
        AFTER UPDATE OF order_kind, status, latency_ms ON latencies BEGIN
        UPDATE latency_buckets SET n = n - 1
            WHERE order_kind = OLD.order_kind AND status = OLD.status
            AND bucket = CAST(printf('%.2e', OLD.latency_ms) AS REAL);
        INSERT INTO latency_buckets (order_kind, status, bucket, n)
            VALUES (NEW.order_kind, NEW.status,
                    CAST(printf('%.2e', NEW.latency_ms) AS REAL), 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
"""

ORDER_COUNTS = """
    CREATE TABLE order_counts (
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (kind, status)
    ) WITHOUT ROWID;
    INSERT INTO order_counts (kind, status, n)
        SELECT kind, status, COUNT(*) FROM orders GROUP BY kind, status;
    CREATE TRIGGER order_counts_insert AFTER INSERT ON orders BEGIN
        INSERT INTO order_counts (kind, status, n) VALUES (NEW.kind, NEW.status, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER order_counts_delete AFTER DELETE ON orders BEGIN
        UPDATE order_counts SET n = n - 1 WHERE kind = OLD.kind AND status = OLD.status;
    END;
    CREATE TRIGGER order_counts_update AFTER UPDATE OF kind, status ON orders
        WHEN OLD.kind IS NOT NEW.kind OR OLD.status IS NOT NEW.status BEGIN
        UPDATE order_counts SET n = n - 1 WHERE kind = OLD.kind AND status = OLD.status;
        INSERT INTO order_counts (kind, status, n) VALUES (NEW.kind, NEW.status, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
"""

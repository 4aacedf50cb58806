"""Migration 12: a running tally that SQLite keeps itself, in the transaction of the
rows it counts, so that a question about all of history reads a few rows.

`latency_buckets`: analytics' latencies by kind, status and latency rounded to three
significant digits (`printf('%.2e')`: 900 buckets a decade, each within 0.5% of the
latencies it holds), for the summary's counts and percentiles (an OFFSET walk of the
latency index took 0.3 s a percentile at 2M rows).

Triggers keep it: the owner of `latencies` (analytics) writes its rows as before and
the tally follows in the same statement; a crash cannot separate them; the history
keeper's pruning takes pruned rows out of it. The migration fills it from the rows
already there. (Orders by kind and status are counted otherwise, without a write per
order: `Reader.order_counts`, from the history keeper's daily totals.)
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

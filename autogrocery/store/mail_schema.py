"""Migration 19: email to operators (docs/operating.md, "Email"), the mailer's tables
(api/mail_planner.py, api/mailer.py).

notification_preferences: what each operator is told and how; `after_seq` the last
notice looked at for them (a digest's, or quiet hours', wait there until they are
sent), `digest_on` and `report_on` the store days the last digest and daily report
went. mail_outbox: each mail queued in the transaction that moves `after_seq` (or marks
the day), unique per operator and `key` (a notice's seq, a digest's or a report's day),
so one alert is never mailed twice to one operator; sent and retried as a webhook's
delivery is.
"""

MAIL_TABLES = """
    CREATE TABLE notification_preferences (
        user_id TEXT PRIMARY KEY,
        email TEXT,
        events TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
        quiet_start TEXT,
        quiet_end TEXT,
        daily_report INTEGER NOT NULL DEFAULT 0,
        after_seq INTEGER NOT NULL,
        digest_on TEXT,
        report_on TEXT,
        updated_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE mail_outbox (
        mail_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        first_at REAL,
        next_at REAL NOT NULL,
        last_error TEXT,
        finished_at REAL,
        UNIQUE (user_id, key)
    );
    CREATE INDEX mail_outbox_pending ON mail_outbox (next_at) WHERE status = 'pending';
"""

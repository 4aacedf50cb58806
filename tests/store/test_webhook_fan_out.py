"""The webhooks' fan-out in steps (an alert storm is queued a bounded step at a time,
each notice once per webhook that wants it), and what is forgotten after a week."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autogrocery.api import webhook_tables
from autogrocery.api.webhook_tables import fan_out, forget_old, insert_webhook
from autogrocery.store.db import connect, migrate, transaction

DAY = 86_400.0


def store(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    migrate(conn)
    return conn


def test_a_storm_is_queued_in_bounded_steps_each_notice_once(tmp_path: Path) -> None:
    conn = store(tmp_path / "store.db")
    with transaction(conn):
        insert_webhook(conn, "whk_a", "http://127.0.0.1/a", ["alert.raised"], "", "s", "ops", 0)
        insert_webhook(conn, "whk_b", "http://127.0.0.1/b", ["alert.cleared"], "", "s", "ops", 0)
        kinds = ["alert.raised", "alert.cleared"] * 2_500
        conn.executemany(
            "INSERT INTO notices (type, at, facts) VALUES (?, 0, '{}')", [(k,) for k in kinds]
        )
    steps = 0
    while True:
        before = conn.total_changes
        with transaction(conn):
            if not fan_out(conn, 1.0):
                break
        steps += 1
        assert conn.total_changes - before <= webhook_tables.FAN_OUT_ROWS + 2  # + after_seq
    assert steps >= 5  # 5,000 notices, 2 webhooks, at most 2,000 deliveries a step
    by_hook = dict(
        conn.execute("SELECT webhook_id, COUNT(DISTINCT seq) FROM webhook_deliveries GROUP BY 1")
    )
    assert by_hook == {"whk_a": 2_500, "whk_b": 2_500}
    assert conn.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 5_000
    assert {row[0] for row in conn.execute("SELECT after_seq FROM webhooks")} == {5_000}


def test_what_is_a_week_old_and_passed_is_forgotten_and_nothing_still_needed(
    tmp_path: Path,
) -> None:
    conn = store(tmp_path / "store.db")
    with transaction(conn):
        conn.execute("INSERT INTO notices (type, at, facts) VALUES ('alert.raised', 0, '{}')")
        insert_webhook(conn, "whk_a", "http://127.0.0.1/a", ["alert.raised"], "", "s", "ops", 0)
        conn.executemany(
            "INSERT INTO notices (type, at, facts) VALUES ('alert.raised', 0, '{}')", [()] * 2
        )
        fan_out(conn, 0.0)
        conn.execute(
            "UPDATE webhook_deliveries SET status = 'delivered', finished_at = 0 WHERE seq = 2"
        )
    now = 8 * DAY
    with transaction(conn):
        while forget_old(conn, now):
            pass
    # Notice 1 came before the webhook; 2 was delivered; 3 is still pending: it stays.
    assert [row[0] for row in conn.execute("SELECT seq FROM notices")] == [3]
    assert [row[0] for row in conn.execute("SELECT seq FROM webhook_deliveries")] == [3]

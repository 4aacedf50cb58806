"""The statements on the webhooks' tables (store/notify_schema.py). Writes run inside a
write transaction through the store's one writer (`AuthTables.transact`); reads are one
statement each on the tables' reading connection."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from autogrocery.api.auth_store import Sql

PING = "webhook.ping"  # a test delivery (webhook_sending.body_of shows its facts as they are)

FAN_OUT_ROWS = 2000  # deliveries a fan-out step queues at most: it holds the store's writer
FORGET_ROWS = 2000  # rows a step of forgetting deletes
TRIES_KEPT = 10  # attempts a delivery keeps the details of (the newest)
KEPT_FOR = 7 * 86_400.0  # s: finished deliveries, and notices every webhook has passed

WEBHOOK_COLUMNS = """
    w.webhook_id, w.url, w.events, w.description, w.paused, w.created_by, w.created_at,
    (SELECT COUNT(*) FROM webhook_deliveries d
        WHERE d.webhook_id = w.webhook_id AND d.status = 'pending') AS pending,
    (SELECT COUNT(*) FROM webhook_deliveries d
        WHERE d.webhook_id = w.webhook_id AND d.status = 'failed') AS failed
"""
SELECT_WEBHOOKS = f"SELECT {WEBHOOK_COLUMNS} FROM webhooks w"  # noqa: S608
SELECT_WEBHOOK = f"{SELECT_WEBHOOKS} WHERE w.webhook_id = ?"
BEHIND = """
    SELECT (SELECT COALESCE(MAX(seq), 0) FROM notices) > (SELECT MIN(after_seq) FROM webhooks)
"""
SELECT_TARGETS = "SELECT webhook_id, url, secret, paused FROM webhooks"
SELECT_DELIVERIES = """
    SELECT delivery_id, type, status, attempts, created_at, next_at, finished_at, tries
    FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq DESC LIMIT ?
"""
# The oldest pending delivery of a webhook first: one receiver is told in order.
SELECT_DUE = """
    SELECT d.delivery_id, d.type, d.attempts, d.next_at, d.created_at, n.at, n.facts
    FROM webhook_deliveries d JOIN notices n ON n.seq = d.seq
    WHERE d.webhook_id = ? AND d.status = 'pending' ORDER BY d.seq LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a webhook's deliveries go, and how they are signed."""

    webhook_id: str
    url: str
    secret: str
    paused: bool


@dataclass(frozen=True, slots=True)
class Due:
    """A pending delivery with its notice: the event to send."""

    delivery_id: str
    type: str
    attempts: int
    next_at: float
    created_at: float
    at: float
    facts: dict[str, object]


def encode_events(events: Sequence[str]) -> str:
    return orjson.dumps(sorted(set(events))).decode()


def insert_webhook(
    conn: Sql,
    webhook_id: str,
    url: str,
    events: Sequence[str],
    description: str,
    secret: str,
    created_by: str,
    at: float,
) -> None:
    """A new webhook is told of what is raised from now on, not of the past."""
    conn.execute(
        "INSERT INTO webhooks (webhook_id, url, events, description, secret, created_by,"
        " created_at, after_seq) VALUES (?, ?, ?, ?, ?, ?, ?,"
        " (SELECT COALESCE(MAX(seq), 0) FROM notices))",
        (webhook_id, url, encode_events(events), description, secret, created_by, at),
    )


def update_webhook(conn: Sql, webhook_id: str, changes: dict[str, str | int]) -> bool:
    """Set `changes` (column: value) on the webhook; False when there is no such one."""
    if not changes:
        return (
            conn.execute("SELECT 1 FROM webhooks WHERE webhook_id = ?", (webhook_id,)).fetchone()
            is not None
        )
    sets = ", ".join(f"{column} = ?" for column in changes)
    done = conn.execute(
        f"UPDATE webhooks SET {sets} WHERE webhook_id = ?",  # noqa: S608  # columns are ours
        (*changes.values(), webhook_id),
    )
    return done.rowcount == 1


def delete_webhook(conn: Sql, webhook_id: str) -> bool:
    """The webhook and its deliveries, gone; False when there is no such one."""
    conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
    return conn.execute("DELETE FROM webhooks WHERE webhook_id = ?", (webhook_id,)).rowcount == 1


def fan_out(conn: Sql, at: float) -> list[str]:
    """Queue a delivery for each webhook of each notice after its `after_seq` that it
    wants, for as many notices past the furthest behind as make FAN_OUT_ROWS deliveries
    at most; move `after_seq` in the same transaction. Returns the webhooks given new
    deliveries."""
    newest = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM notices").fetchone()
    behind = conn.execute("SELECT MIN(after_seq), COUNT(*) FROM webhooks").fetchone()
    if newest is None or behind is None or behind[0] is None or behind[0] >= newest[0]:
        return []
    upto = min(newest[0], behind[0] + max(1, FAN_OUT_ROWS // behind[1]))
    queued = conn.execute(
        "INSERT OR IGNORE INTO webhook_deliveries"
        " (delivery_id, webhook_id, seq, type, status, created_at, next_at)"
        " SELECT 'dlv_' || lower(hex(randomblob(12))), w.webhook_id, n.seq, n.type,"
        " 'pending', ?, ?"
        " FROM webhooks w JOIN notices n ON n.seq > w.after_seq AND n.seq <= ?"
        " WHERE EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = n.type)"
        " RETURNING webhook_id",
        (at, at, upto),
    ).fetchall()
    conn.execute("UPDATE webhooks SET after_seq = ? WHERE after_seq < ?", (upto, upto))
    return sorted({row[0] for row in queued})


def record_attempt(
    conn: Sql,
    delivery_id: str,
    status: str,
    at: float,
    next_at: float,
    code: int | None,
    ms: float,
    error: str | None,
) -> None:
    """One attempt's outcome: delivered, failed for good, or pending until `next_at`; the
    attempt itself kept with the last TRIES_KEPT before it."""
    tried = orjson.dumps({"at": at, "status_code": code, "ms": ms, "error": error}).decode()
    conn.execute(
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_at = ?,"
        " finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END,"
        " tries = json_insert(CASE WHEN json_array_length(tries) >= ?"
        " THEN json_remove(tries, '$[0]') ELSE tries END, '$[#]', json(?))"
        " WHERE delivery_id = ? AND status = 'pending'",
        (status, next_at, status, at, TRIES_KEPT, tried, delivery_id),
    )


def ping(conn: Sql, webhook_id: str, facts: str, at: float) -> str | None:
    """A test delivery for one webhook (a notice of its own, queued for it alone); its
    delivery id, or None when there is no such webhook."""
    if (
        conn.execute("SELECT 1 FROM webhooks WHERE webhook_id = ?", (webhook_id,)).fetchone()
        is None
    ):
        return None
    conn.execute("INSERT INTO notices (type, at, facts) VALUES (?, ?, ?)", (PING, at, facts))
    newest = conn.execute("SELECT MAX(seq) FROM notices").fetchone()  # this one: one writer
    return queue_one(conn, webhook_id, newest[0] if newest else 0, PING, at)


def redeliver(conn: Sql, webhook_id: str, delivery_id: str, at: float) -> str:
    """Queue a delivered or failed delivery again, with a new retry window: "queued",
    "unknown", "pending" (it still is), or "gone" (its event was forgotten)."""
    row = conn.execute(
        "SELECT d.status, n.seq IS NOT NULL FROM webhook_deliveries d"
        " LEFT JOIN notices n ON n.seq = d.seq WHERE d.delivery_id = ? AND d.webhook_id = ?",
        (delivery_id, webhook_id),
    ).fetchone()
    if row is None:
        return "unknown"
    if row[0] == "pending":
        return "pending"
    if not row[1]:
        return "gone"
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', created_at = ?, next_at = ?,"
        " finished_at = NULL WHERE delivery_id = ?",
        (at, at, delivery_id),
    )
    return "queued"


def queue_one(conn: Sql, webhook_id: str, seq: int, kind: str, at: float) -> str:
    delivery_id = f"dlv_{secrets.token_hex(12)}"
    conn.execute(
        "INSERT INTO webhook_deliveries"
        " (delivery_id, webhook_id, seq, type, status, created_at, next_at)"
        " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
        (delivery_id, webhook_id, seq, kind, at, at),
    )
    return delivery_id


def give_up(conn: Sql, webhook_id: str, at: float, queued_before: float) -> int:
    """Mark failed the webhook's pending deliveries queued before `queued_before`."""
    return conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', finished_at = ?"
        " WHERE webhook_id = ? AND status = 'pending' AND created_at < ?",
        (at, webhook_id, queued_before),
    ).rowcount


def forget_old(conn: Sql, at: float) -> int:
    """Delete up to FORGET_ROWS deliveries finished over a week ago, and of notices over
    a week old that every webhook and mailed operator has passed and no pending delivery
    still needs. Returns the rows deleted (0: nothing left to forget)."""
    cutoff = at - KEPT_FOR
    gone = conn.execute(
        "DELETE FROM webhook_deliveries WHERE delivery_id IN (SELECT delivery_id"
        " FROM webhook_deliveries WHERE status != 'pending' AND finished_at < ? LIMIT ?)",
        (cutoff, FORGET_ROWS),
    ).rowcount
    gone += conn.execute(
        "DELETE FROM notices WHERE seq IN (SELECT seq FROM notices WHERE at < ?"
        " AND seq <= (SELECT MIN(seq) FROM ("
        " SELECT after_seq AS seq FROM webhooks"
        " UNION ALL SELECT after_seq FROM notification_preferences WHERE email IS NOT NULL"
        " UNION ALL SELECT MAX(seq) FROM notices))"
        " AND seq NOT IN (SELECT seq FROM webhook_deliveries WHERE status = 'pending')"
        " ORDER BY seq LIMIT ?)",
        (cutoff, FORGET_ROWS),
    ).rowcount
    return gone


def due(row: sqlite3.Row) -> Due:
    facts = orjson.loads(row["facts"])
    return Due(
        row["delivery_id"],
        row["type"],
        row["attempts"],
        row["next_at"],
        row["created_at"],
        row["at"],
        facts,
    )


def target(row: sqlite3.Row) -> Target:
    return Target(row["webhook_id"], row["url"], row["secret"], bool(row["paused"]))

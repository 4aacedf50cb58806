"""The statements on the mail tables (store/mail_schema.py): writes inside a write
transaction through the store's one writer (`AuthTables.transact`), reads one statement
each on the tables' reading connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from autogrocery.api.auth_store import Sql
from autogrocery.domain.models import new_id

KEPT_FOR = 7 * 86_400.0  # s: sent and failed mail

SELECT_PREFERENCES = "SELECT * FROM notification_preferences WHERE user_id = ?"
# Operators with an email whose accounts are enabled: a disabled one is told nothing.
SELECT_MAILED = """
    SELECT p.* FROM notification_preferences p JOIN accounts a USING (user_id)
    WHERE p.email IS NOT NULL AND a.disabled_at IS NULL AND a.role = 'operator'
"""
SELECT_NOTICES = "SELECT seq, type, at, facts FROM notices WHERE seq > ? ORDER BY seq LIMIT ?"
SELECT_DUE_MAIL = """
    SELECT mail_id, recipient, subject, text_body, html_body, attempts, first_at
    FROM mail_outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator who is mailed: what they want, and how far they have been told."""

    user_id: str
    email: str
    kinds: frozenset[str]
    mode: str
    quiet: tuple[str, str] | None
    daily_report: bool
    after_seq: int
    digest_on: str | None
    report_on: str | None


@dataclass(frozen=True, slots=True)
class Notice:
    seq: int
    type: str
    at: float
    facts: dict[str, Any]  # as the notice's writer made them (JSON)


@dataclass(frozen=True, slots=True)
class Mail:
    recipient: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Queued:
    mail_id: str
    mail: Mail
    attempts: int
    first_at: float | None


def operator(row: sqlite3.Row) -> Operator:
    quiet = (row["quiet_start"], row["quiet_end"]) if row["quiet_start"] else None
    return Operator(
        row["user_id"],
        row["email"],
        frozenset(orjson.loads(row["events"])),
        row["mode"],
        quiet,
        bool(row["daily_report"]),
        row["after_seq"],
        row["digest_on"],
        row["report_on"],
    )


def notice(row: sqlite3.Row) -> Notice:
    return Notice(row["seq"], row["type"], row["at"], orjson.loads(row["facts"]))


def queued(row: sqlite3.Row) -> Queued:
    mail = Mail(row["recipient"], row["subject"], row["text_body"], row["html_body"])
    return Queued(row["mail_id"], mail, row["attempts"], row["first_at"])


def put_preferences(
    conn: Sql,
    user_id: str,
    email: str | None,
    events: Sequence[str],
    mode: str,
    quiet: tuple[str, str] | None,
    daily_report: bool,
    at: float,
    done_on: str,
) -> None:
    """Set an operator's preferences. The first time, they are told of what comes from
    now on, not of the past: their first digest and report are the next ones after
    `done_on` (the day whose daily_at passed last)."""
    start, end = quiet if quiet is not None else (None, None)
    conn.execute(
        "INSERT INTO notification_preferences (user_id, email, events, mode, quiet_start,"
        " quiet_end, daily_report, after_seq, updated_at, digest_on, report_on)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) FROM notices), ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email,"
        " events = excluded.events, mode = excluded.mode, quiet_start = excluded.quiet_start,"
        " quiet_end = excluded.quiet_end, daily_report = excluded.daily_report,"
        " updated_at = excluded.updated_at",
        (
            user_id,
            email,
            orjson.dumps(sorted(set(events))).decode(),
            mode,
            start,
            end,
            int(daily_report),
            at,
            done_on,
            done_on,
        ),
    )


def queue_mail(conn: Sql, user_id: str, key: str, mail: Mail, at: float) -> None:
    """Queue `mail` for `user_id`, once per `key`."""
    conn.execute(
        "INSERT OR IGNORE INTO mail_outbox (mail_id, user_id, key, recipient, subject,"
        " text_body, html_body, status, created_at, next_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        (new_id("mail"), user_id, key, mail.recipient, mail.subject, mail.text, mail.html, at, at),
    )


def mark(
    conn: Sql,
    user_id: str,
    after_seq: int | None = None,
    digest_on: str | None = None,
    report_on: str | None = None,
) -> None:
    """Move an operator's `after_seq` on, or mark the day of a digest or a report."""
    conn.execute(
        "UPDATE notification_preferences SET after_seq = MAX(after_seq, COALESCE(?, 0)),"
        " digest_on = COALESCE(?, digest_on), report_on = COALESCE(?, report_on)"
        " WHERE user_id = ?",
        (after_seq, digest_on, report_on, user_id),
    )


def record_send(
    conn: Sql, mail_id: str, status: str, at: float, next_at: float, error: str | None
) -> None:
    conn.execute(
        "UPDATE mail_outbox SET status = ?, attempts = attempts + 1,"
        " first_at = COALESCE(first_at, ?), next_at = ?, last_error = ?,"
        " finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END"
        " WHERE mail_id = ? AND status = 'pending'",
        (status, at, next_at, error, status, at, mail_id),
    )


def forget_old_mail(conn: Sql, at: float) -> int:
    return conn.execute(
        "DELETE FROM mail_outbox WHERE status != 'pending' AND finished_at < ?",
        (at - KEPT_FOR,),
    ).rowcount

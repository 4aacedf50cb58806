"""The statements on the api layer's tables, inside a write transaction: run through the
store's one writer while the store runs (`AuthTables`), on a connection of the head
office's own, and by `autogrocery accounts` on a stopped store. One place for each
change to an account."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from autogrocery.domain.errors import Conflict
from autogrocery.domain.models import new_id, now

SqlValue = str | int | float | bytes | None


class Rows(Protocol):
    """What a statement gives back: a sqlite3 cursor, or the store's shared connection's
    fetched result (rows as sqlite3.Row, either way)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> sqlite3.Row | None: ...
    def fetchall(self) -> list[sqlite3.Row]: ...
    def __iter__(self) -> Iterator[sqlite3.Row]: ...


class Sql(Protocol):
    """A connection in a write transaction: sqlite3's, or the store's shared one."""

    def execute(self, sql: str, params: Sequence[SqlValue] = ..., /) -> Rows: ...


Outcome = Literal["rotated", "unknown", "reused", "expired", "disabled"]


@dataclass(frozen=True, slots=True)
class Rotation:
    """What presenting a refresh token did, decided and written in one transaction."""

    outcome: Outcome
    user_id: str = ""
    username: str = ""
    role: str = ""
    family: str = ""
    revoked: int = 0  # refresh tokens revoked by a reuse


@dataclass(frozen=True, slots=True)
class Revoked:
    """Refresh families (and access-token ids) revoked, each dead until `until`."""

    families: tuple[str, ...]
    until: float


def insert_account(
    conn: Sql,
    username: str,
    password_hash: bytes,
    role: str,
    email: str | None = None,
    phone: str | None = None,
) -> dict[str, str]:
    user_id = new_id("usr")
    try:
        conn.execute(
            "INSERT INTO accounts (user_id, username, password_hash, role, email, phone, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user_id, username, password_hash, role, email, phone, now()),
        )
    except sqlite3.IntegrityError:
        raise Conflict(f"username {username!r} is taken") from None
    return {"user_id": user_id, "username": username, "role": role}


def insert_refresh(conn: Sql, token_hash: str, family_id: str, user_id: str, ttl: float) -> None:
    at = now()
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (token_hash, family_id, user_id, at, at + ttl),
    )


def revoke_refresh_tokens(conn: Sql, family: str) -> int:
    return conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        (now(), family),
    ).rowcount


def revoke_families(conn: Sql, families: list[str], access_ttl: float) -> Revoked:
    """Revoke every refresh token of `families`, and deny their access tokens until the
    last one that can exist has expired."""
    until = now() + access_ttl
    for family in families:
        revoke_refresh_tokens(conn, family)
        deny(conn, "family", family, until)
    return Revoked(tuple(families), until)


def deny(conn: Sql, kind: str, token_id: str, until: float) -> None:
    conn.execute(
        "INSERT INTO revoked_tokens (kind, id, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
        (kind, token_id, until),
    )


def rotate_refresh(
    conn: Sql, old_hash: str, new_hash: str, ttl: float, access_ttl: float
) -> Rotation:
    """Use a refresh token and issue its successor, or, if it was used or revoked before
    (a replay: someone else holds it too), revoke its whole family. One transaction, so
    a successor is never issued after its family was revoked."""
    token = conn.execute(
        "SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens "
        "WHERE token_hash = ?",
        (old_hash,),
    ).fetchone()
    if token is None:
        return Rotation("unknown")
    family, user_id = token["family_id"], token["user_id"]
    if token["used_at"] is not None or token["revoked_at"] is not None:
        revoked = revoke_refresh_tokens(conn, family)
        deny(conn, "family", family, now() + access_ttl)
        return Rotation("reused", user_id=user_id, family=family, revoked=revoked)
    if token["expires_at"] < now():
        return Rotation("expired", user_id=user_id, family=family)
    account = conn.execute(
        "SELECT username, role, disabled_at FROM accounts WHERE user_id = ?", (user_id,)
    ).fetchone()
    if account is None or account["disabled_at"] is not None:
        revoke_families(conn, [family], access_ttl)
        return Rotation("disabled", user_id=user_id, family=family)
    conn.execute("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", (now(), old_hash))
    insert_refresh(conn, new_hash, family, user_id, ttl)
    return Rotation("rotated", user_id, account["username"], account["role"], family)


def logout(
    conn: Sql,
    refresh_hash: str,
    user_id: str,
    jti: str,
    jti_expires: float,
    access_ttl: float,
) -> Revoked | None:
    """Revoke the login of a refresh token of `user_id` and deny the access token `jti`;
    None (and nothing changed) when the refresh token is not theirs."""
    token = conn.execute(
        "SELECT family_id FROM refresh_tokens WHERE token_hash = ? AND user_id = ?",
        (refresh_hash, user_id),
    ).fetchone()
    if token is None:
        return None
    if jti:
        deny(conn, "jti", jti, jti_expires)
    return revoke_families(conn, [token["family_id"]], access_ttl)


def _user_families(conn: Sql, user_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = ? AND revoked_at IS NULL",
        (user_id,),
    )
    return [row[0] for row in rows]


def set_disabled(
    conn: Sql, username: str, disabled: bool, access_ttl: float
) -> tuple[str, Revoked] | None:
    """Disable (every login revoked) or enable an account; None if there is no such
    account. Returns its user id and what was revoked."""
    row = conn.execute("SELECT user_id FROM accounts WHERE username = ?", (username,)).fetchone()
    if row is None:
        return None
    user_id = row[0]
    conn.execute(
        "UPDATE accounts SET disabled_at = ? WHERE user_id = ?",
        (now() if disabled else None, user_id),
    )
    if not disabled:
        return user_id, Revoked((), 0.0)
    return user_id, revoke_families(conn, _user_families(conn, user_id), access_ttl)


def set_password(
    conn: Sql, username: str, password_hash: bytes, access_ttl: float
) -> Revoked | None:
    """A new password; every login of the account is revoked. None: no such account."""
    row = conn.execute("SELECT user_id FROM accounts WHERE username = ?", (username,)).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE accounts SET password_hash = ? WHERE user_id = ?", (password_hash, row[0]))
    return revoke_families(conn, _user_families(conn, row[0]), access_ttl)


def list_accounts(conn: Sql) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT user_id, username, role, created_at, disabled_at FROM accounts "
        "ORDER BY created_at, username"
    ).fetchall()


def denials(conn: Sql) -> tuple[list[tuple[str, str, float]], list[str]]:
    """What a starting API must refuse: denied token ids still unexpired, and the user
    ids of disabled accounts."""
    tokens = conn.execute(
        "SELECT kind, id, expires_at FROM revoked_tokens WHERE expires_at > ?", (now(),)
    ).fetchall()
    users = conn.execute("SELECT user_id FROM accounts WHERE disabled_at IS NOT NULL").fetchall()
    return [tuple(row) for row in tokens], [row[0] for row in users]


def forget_expired(conn: Sql, idempotency_cutoff: float) -> int:
    """Drop idempotency records older than the cutoff and denials past their expiry."""
    conn.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (now(),))
    return conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?", (idempotency_cutoff,)
    ).rowcount

"""`autogrocery accounts`: list, add, set-password, disable, enable, on a store's data dir.

The way back from a lost password (the bootstrap ones are shown once, at first start).
Changes are made on a stopped store only: the running store keeps what it has denied in
memory (disabled accounts, revoked logins), so a change behind its back would not reach
it. While a store runs, each change refuses in one line and names the operator API that
does it live (`POST /api/ops/accounts…`); `list` only reads, so it works either way.
A change holds the data dir's lock while it writes, so a store cannot start midway.

A new password is read from standard input (one line), or asked twice on a terminal;
`--generate` makes a random one and prints it.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sqlite3
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from autogrocery.cli.command import Command, with_config

if TYPE_CHECKING:
    from autogrocery.config import Config

ROLES = ("operator", "truck", "device")
LIVE = {
    "add": "POST /api/ops/accounts",
    "disable": "POST /api/ops/accounts/{username}/disable",
    "enable": "POST /api/ops/accounts/{username}/enable",
    "set-password": "stop it first",
}


class Refused(Exception):
    """One line for the operator; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_arguments(accounts: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="every account, its role and state")
    add = actions.add_parser("add", parents=[common], help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="operator", help="default: operator")
    password = actions.add_parser(
        "set-password", parents=[common], help="set a new password; its logins are revoked"
    )
    password.add_argument("username")
    for parser in (add, password):
        parser.add_argument(
            "--generate", action="store_true", help="make a random password and print it"
        )
    for action, text in (
        ("disable", "refuse its tokens and logins"),
        ("enable", "allow it to log in again"),
    ):
        actions.add_parser(action, parents=[common], help=text).add_argument("username")


def run(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.datadir import DataDirBusy, hold, running_pid
    from autogrocery.domain.errors import DomainError
    from autogrocery.store.db import DB_NAME

    action: str = args.accounts_command
    db_path = config.data_path / DB_NAME
    try:
        if not db_path.exists():
            raise Refused(f"no store in {config.data_path} (no {DB_NAME})")
        if action == "list":
            return _list(db_path, migrate=running_pid(config.data_path) is None)
        password, generated = _password(args) if action in ("add", "set-password") else ("", False)
        try:
            with hold(config.data_path, what="accounts"):
                _change(config, db_path, args, password)
        except DataDirBusy as busy:
            live = LIVE[action].format(username=args.username)
            how = f"use {live}" if live.startswith("POST") else live
            raise Refused(f"{busy}; accounts {action} works on a stopped store ({how})") from None
    except DomainError as error:
        print(f"autogrocery: accounts {action}: {error.detail}", file=sys.stderr)
        return 2 if error.status == 400 else 1
    except Refused as refused:
        print(f"autogrocery: accounts {action}: {refused}", file=sys.stderr)
        return refused.code
    except sqlite3.DatabaseError as exc:  # corrupt, not a database, unreadable
        print(f"autogrocery: accounts {action}: {db_path}: {exc}", file=sys.stderr)
        return 2
    if generated:
        print(f"new password for {args.username}: {password}")
    return 0


def _connect(db_path: object, migrate: bool) -> sqlite3.Connection:
    from autogrocery.store.db import connect
    from autogrocery.store.db import migrate as bring_up_to_date

    conn = connect(db_path)  # type: ignore[arg-type]
    conn.row_factory = sqlite3.Row
    if migrate:  # a store made by an older version: add what accounts need now
        bring_up_to_date(conn)
    return conn


def _list(db_path: object, migrate: bool) -> int:
    from autogrocery.api.auth_store import list_accounts
    from autogrocery.api.usernames import lookup_form
    from autogrocery.domain.models import rfc3339

    conn = _connect(db_path, migrate)
    try:
        rows = list_accounts(conn)
    finally:
        conn.close()
    width = max((len(row["username"]) for row in rows), default=8)
    print(f"{'USERNAME':<{width}}  {'ROLE':<8}  {'STATE':<8}  CREATED")
    for row in rows:
        state = "disabled" if row["disabled_at"] is not None else "active"
        note = (
            "  (an old name: logs in only as spelt)"
            if lookup_form(row["username"]) != (row["username"])
            else ""
        )
        print(
            f"{row['username']:<{width}}  {row['role']:<8}  {state:<8}  "
            f"{rfc3339(row['created_at'])}{note}"
        )
    return 0


def _change(config: Config, db_path: object, args: argparse.Namespace, password: str) -> None:
    import bcrypt

    from autogrocery.api import auth_store as sql
    from autogrocery.api.passwords import validate_credentials
    from autogrocery.api.usernames import lookup_form
    from autogrocery.store.db import transaction

    action: str = args.accounts_command
    ttl = config.auth.access_ttl

    def hashed() -> bytes:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(config.auth.bcrypt_cost))

    conn = _connect(db_path, migrate=True)
    try:
        if action == "add":
            username = validate_credentials(args.username, password)
            secret = hashed()
            with transaction(conn):
                sql.insert_account(conn, username, secret, args.role)
            print(f"created the {args.role} account {username}")
            return
        username = _existing(conn, args.username, lookup_form)
        changes: dict[str, Callable[[], object]] = {
            "set-password": lambda: sql.set_password(conn, username, hashed(), ttl),
            "disable": lambda: sql.set_disabled(conn, username, True, ttl),
            "enable": lambda: sql.set_disabled(conn, username, False, ttl),
        }
        if action == "set-password":
            validate_credentials(username, password)
        with transaction(conn):
            changes[action]()
        done = {"set-password": "password set; its logins are revoked"}
        print(f"{username}: {done.get(action, action + 'd')}")
    finally:
        conn.close()


def _existing(
    conn: sqlite3.Connection, typed: str, lookup_form: Callable[[str], str | None]
) -> str:
    """The stored name of the account `typed` means (as a login would find it)."""
    for name in (lookup_form(typed), typed):
        if name and conn.execute("SELECT 1 FROM accounts WHERE username = ?", (name,)).fetchone():
            return name
    raise Refused(f"no account {typed!r}")


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new password, and whether it was generated (to be printed once it is set)."""
    if args.generate:
        return secrets.token_urlsafe(12), True
    if sys.stdin.isatty():
        first = getpass.getpass(f"new password for {args.username}: ")
        if getpass.getpass("again: ") != first:
            raise Refused("the two passwords differ; nothing changed", code=2)
        return first, False
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Refused("no password on standard input (or use --generate)", code=2)
    return line, False


COMMANDS = (
    Command(
        "accounts",
        "list or change accounts (on a stopped store)",
        add_arguments,
        with_config(run),
    ),
)

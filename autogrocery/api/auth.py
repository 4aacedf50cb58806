"""Accounts and logins: creating, disabling and bootstrapping accounts, logging in
(throttled), single-use refresh tokens with theft detection, logout and revoking a login.
It hashes passwords with `passwords.Passwords` and signs and verifies access tokens,
which logout, a revoked login or a disabled account kill at once, with `tokens.Tokens`."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

import aiosqlite

from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth_store import Revoked, revoke_families
from autogrocery.api.passwords import Passwords, validate_credentials
from autogrocery.api.problems import Unauthorized
from autogrocery.api.revocations import Revocations
from autogrocery.api.throttle import LoginThrottle, client_key
from autogrocery.api.tokens import ROLES, Principal, Tokens
from autogrocery.api.usernames import lookup_form
from autogrocery.domain.errors import NotFound, ValidationError

log = logging.getLogger(__name__)

RoleCheck = Callable[[str], str | None] | None  # a role -> why a login refuses it
BOOTSTRAP = (
    ("admin", "operator", "AUTOGROCERY_ADMIN_PASSWORD"),
    ("truck-1", "truck", "AUTOGROCERY_TRUCK_PASSWORD"),
)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    bcrypt_cost: int
    access_ttl: float
    refresh_ttl: float
    login_max_failures: int
    login_ip_max_failures: int
    login_window: float


class IssuedTokens(TypedDict):
    """A login's or a rotation's token pair, as /api/auth answers it (TokenPair)."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    role: str


class AccountStatus(TypedDict):
    """An account disabled or enabled, as /api/accounts answers it (AccountState)."""

    user_id: str
    username: str
    role: str
    disabled: bool


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    """What `bootstrap` did: passwords it generated (to show once), and the environment
    variables it ignored because their account already exists with another password."""

    generated: list[tuple[str, str]]
    ignored: list[str]


class Auth:
    def __init__(
        self,
        settings: AuthSettings,
        secret: bytes,
        tables: AuthTables,
        first_accounts: Sequence[tuple[str, str, str]] = BOOTSTRAP,
    ) -> None:
        self.settings = settings
        # (username, role, environment variable) of the accounts made at first start:
        # the store's admin and first truck; the head office's admin alone.
        self.first_accounts = tuple(first_accounts)
        self.tables = tables
        self.throttle = LoginThrottle(
            settings.login_max_failures, settings.login_ip_max_failures, settings.login_window
        )
        self.revocations = Revocations()
        self.passwords = Passwords(settings.bcrypt_cost)
        self.tokens = Tokens(secret, settings.access_ttl, self.revocations)

    async def load(self) -> None:
        """Load what was revoked before this start (denied tokens, disabled accounts),
        and which accounts exist."""
        self.revocations.load(*await self.tables.denials())
        self.revocations.accounts = await self.tables.user_ids()

    def close(self) -> None:
        self.passwords.close()

    # --- accounts ------------------------------------------------------------------------

    async def create_account(
        self,
        username: str,
        password: str,
        role: str,
        email: str | None = None,
        phone: str | None = None,
    ) -> dict[str, str]:
        """A new account under the enforced form of `username` (see `usernames`)."""
        username = validate_credentials(username, password)
        if role not in ROLES:
            raise ValidationError(
                f"role must be one of {', '.join(ROLES)}",
                [{"field": "role", "message": "unknown role"}],
            )
        account = await self.tables.create_account(
            username, await self.passwords.hash_password(password), role, email, phone
        )
        if self.revocations.accounts is not None:
            self.revocations.accounts.add(account["user_id"])
        return account

    async def find_account(self, username: str) -> aiosqlite.Row | None:
        """The account a login name means, or None."""
        return await self._account_for(username, lookup_form(username))

    async def _account_for(self, username: str, enforced: str | None) -> aiosqlite.Row | None:
        """By the name's enforced form, else (accounts made before names were enforced)
        exactly as typed."""
        account = await self.tables.account(enforced) if enforced is not None else None
        if account is None and enforced != username and len(username) <= 128:
            account = await self.tables.account(username)
        return account

    async def set_disabled(self, username: str, disabled: bool) -> AccountStatus:
        """Disable an account (its tokens stop at once, every login revoked) or enable it
        again (its old logins stay revoked). 404 if there is no such account."""
        account = await self.find_account(username)
        if account is None:
            raise NotFound(f"no account {username!r}")
        changed = await self.tables.set_disabled(
            account["username"], disabled, self.settings.access_ttl
        )
        if changed is None:
            raise NotFound(f"no account {username!r}")
        user_id, revoked = changed
        self._revoked(revoked)
        if disabled:
            self.revocations.users.add(user_id)
            log.warning("account %s disabled", account["username"])
        else:
            self.revocations.users.discard(user_id)
            log.warning("account %s enabled", account["username"])
        return {
            "user_id": user_id,
            "username": account["username"],
            "role": account["role"],
            "disabled": disabled,
        }

    async def bootstrap(self, environ: dict[str, str] | None = None) -> Bootstrapped:
        """Create the first accounts (the store's admin operator and first truck) on
        first start. A password not
        given in the environment is generated (returned, to be shown once). Given for an
        account that exists already, a password is fine if it is that account's (as after
        pasting the `export` line printed at first start), else ignored (in `ignored`)."""
        env = os.environ if environ is None else environ
        done = Bootstrapped([], [])
        for username, role, variable in self.first_accounts:
            given = env.get(variable)
            account = await self.tables.account(username)
            if account is not None:
                if given and not await self.passwords.check_password(
                    given, account["password_hash"]
                ):
                    done.ignored.append(variable)
                continue
            password = given or secrets.token_urlsafe(12)
            await self.create_account(username, password, role)
            if not given:
                done.generated.append((username, password))
            log.info("created the %s account %s", role, username)
        return done

    def _revoked(self, revoked: Revoked | None) -> None:
        if revoked is not None:
            self.revocations.deny_families(revoked.families, revoked.until)

    def _pair(
        self, user_id: str, username: str, role: str, refresh: str, family: str
    ) -> IssuedTokens:
        return {
            "access_token": self.tokens.access_token(user_id, username, role, family),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": int(self.settings.access_ttl),
            "role": role,
        }

    async def login(
        self, username: str, password: str, client: str, *, refuse_role: RoleCheck = None
    ) -> IssuedTokens:
        """A new login (refresh family). `client` is the peer address, for throttling.
        `refuse_role(role)` may name why this door refuses that role (checked after the
        password, before any token is made)."""
        enforced = lookup_form(username)
        name = enforced or username[:128]
        client = client_key(client)
        self.throttle.check(name, client)
        account = await self._account_for(username, enforced)
        hashed = account["password_hash"] if account is not None else None
        if not await self.passwords.check_password(password, hashed) or account is None:
            self.throttle.failed(name, client)
            raise Unauthorized("unknown username or wrong password")
        self.throttle.succeeded(name, client)
        if account["disabled_at"] is not None:
            raise Unauthorized("this account is disabled")
        if refuse_role is not None and (why := refuse_role(account["role"])) is not None:
            raise Unauthorized(why)
        refresh, family = secrets.token_urlsafe(32), uuid.uuid4().hex
        await self.tables.add_refresh(
            _hash_refresh(refresh), family, account["user_id"], self.settings.refresh_ttl
        )
        return self._pair(account["user_id"], account["username"], account["role"], refresh, family)

    async def refresh(self, token: str) -> IssuedTokens:
        """Rotate a refresh token. Presenting one that was used or revoked before revokes
        its whole login, the pair just issued to whoever presented it first included."""
        successor = secrets.token_urlsafe(32)
        s = self.settings
        done = await self.tables.rotate_refresh(
            _hash_refresh(token), _hash_refresh(successor), s.refresh_ttl, s.access_ttl
        )
        if done.outcome == "rotated":
            return self._pair(done.user_id, done.username, done.role, successor, done.family)
        if done.outcome == "unknown":
            raise Unauthorized("the refresh token is not valid")
        if done.outcome == "expired":
            raise Unauthorized("the refresh token has expired; log in again")
        self.revocations.deny("family", done.family, time.time() + s.access_ttl)
        if done.outcome == "disabled":
            raise Unauthorized("the account is disabled or no longer exists")
        log.warning(
            "refresh token reused for user %s; revoked %d token(s) of its login",
            done.user_id,
            done.revoked,
        )
        raise Unauthorized("the refresh token was already used; this login is revoked")

    async def logout(self, principal: Principal, token: str) -> None:
        """End the login of refresh token `token` (the caller's) and kill the access
        token the caller presented, at once."""
        revoked = await self.tables.logout(
            _hash_refresh(token),
            principal.user_id,
            principal.jti,
            principal.expires,
            self.settings.access_ttl,
        )
        if revoked is None:
            raise Unauthorized("the refresh token is not valid")
        if principal.jti:
            self.revocations.deny("jti", principal.jti, principal.expires)
        self._revoked(revoked)

    async def revoke_login(self, family: str) -> None:
        """Revoke one login at once: its refresh tokens and its access tokens."""
        s = self.settings
        revoked = await self.tables.transact(
            lambda conn: revoke_families(conn, [family], s.access_ttl)
        )
        self._revoked(revoked)

    async def refresh_record(self, token: str) -> aiosqlite.Row | None:
        """The stored row of a refresh token (None if unknown), for a caller with its own
        refresh rules: the original devices' layer (api/compat) never rotates one."""
        return await self.tables.refresh_token(_hash_refresh(token))

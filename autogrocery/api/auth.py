"""Passwords (bcrypt, off the loop), access tokens (HS256 JWT), single-use refresh
tokens with theft detection, login throttling and the bootstrap accounts."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import os
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import jwt

from autogrocery.api.accounts import AuthTables
from autogrocery.api.problems import Forbidden, TooManyRequests, Unauthorized
from autogrocery.domain.errors import ValidationError

log = logging.getLogger(__name__)

ROLES = ("device", "truck", "operator")
ALGORITHM = "HS256"
KEY_FILE = "jwt.key"
VERIFIED_CACHE = 10_000  # tokens remembered as verified (oldest forgotten first)
BOOTSTRAP = (
    ("admin", "operator", "AUTOGROCERY_ADMIN_PASSWORD"),
    ("truck-1", "truck", "AUTOGROCERY_TRUCK_PASSWORD"),
)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: str

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role; you are {self.role}")


@dataclass(frozen=True, slots=True)
class AuthSettings:
    bcrypt_cost: int
    access_ttl: float
    refresh_ttl: float
    login_max_failures: int
    login_ip_max_failures: int
    login_window: float


class LoginThrottle:
    """Failed logins per username and per client address in a sliding window."""

    def __init__(self, per_user: int, per_client: int, window: float) -> None:
        self.limits = {"user": per_user, "client": per_client}
        self.window = window
        self.failures: dict[tuple[str, str], collections.deque[float]] = {}

    def check(self, username: str, client: str) -> None:
        clock = time.monotonic()
        for scope, key in (("user", username), ("client", client)):
            failures = self._recent((scope, key), clock)
            if len(failures) >= self.limits[scope]:
                retry = max(1, int(failures[0] + self.window - clock) + 1)
                what = "username" if scope == "user" else "client"
                raise TooManyRequests(
                    f"too many failed logins for this {what}; try again in {retry}s", retry
                )

    def failed(self, username: str, client: str) -> None:
        clock = time.monotonic()
        for key in (("user", username), ("client", client)):
            self.failures.setdefault(key, collections.deque()).append(clock)

    def succeeded(self, username: str) -> None:
        self.failures.pop(("user", username), None)

    def _recent(self, key: tuple[str, str], clock: float) -> collections.deque[float]:
        failures = self.failures.get(key, collections.deque())
        while failures and failures[0] <= clock - self.window:
            failures.popleft()
        if not failures:
            self.failures.pop(key, None)
        return failures


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Auth:
    def __init__(self, settings: AuthSettings, secret: bytes, tables: AuthTables) -> None:
        self.settings = settings
        self.secret = secret
        self.tables = tables
        self.throttle = LoginThrottle(
            settings.login_max_failures, settings.login_ip_max_failures, settings.login_window
        )
        self._dummy_hash = bcrypt.hashpw(b"timing-equaliser", bcrypt.gensalt(4))
        self._verified: dict[str, tuple[Principal, float]] = {}
        # bcrypt is CPU-heavy by design. Bounded to half the cores, a burst of logins
        # queues instead of taking every core from the event loop and the actors.
        self._hashing = ThreadPoolExecutor(
            max_workers=max(1, (os.cpu_count() or 2) // 2),
            thread_name_prefix="bcrypt",
            initializer=_lower_priority,
        )

    def close(self) -> None:
        self._hashing.shutdown(wait=True, cancel_futures=True)

    # --- passwords -----------------------------------------------------------------------

    async def hash_password(self, password: str) -> bytes:
        salt = bcrypt.gensalt(self.settings.bcrypt_cost)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._hashing, bcrypt.hashpw, password.encode(), salt)

    async def check_password(self, password: str, hashed: bytes | None) -> bool:
        loop = asyncio.get_running_loop()
        candidate = password.encode()[:72]
        ok = await loop.run_in_executor(
            self._hashing, bcrypt.checkpw, candidate, hashed or self._dummy_hash
        )
        return ok and hashed is not None

    # --- accounts ------------------------------------------------------------------------

    async def create_account(
        self,
        username: str,
        password: str,
        role: str,
        email: str | None = None,
        phone: str | None = None,
    ) -> dict[str, str]:
        validate_credentials(username, password)
        if role not in ROLES:
            raise ValidationError(
                f"role must be one of {', '.join(ROLES)}",
                [{"field": "role", "message": "unknown role"}],
            )
        return await self.tables.create_account(
            username, await self.hash_password(password), role, email, phone
        )

    async def bootstrap(self, environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """Create the admin operator and the first truck on first start. A password not
        given in the environment is generated; returns (username, password) generated."""
        env = os.environ if environ is None else environ
        generated = []
        for username, role, variable in BOOTSTRAP:
            if await self.tables.account(username) is not None:
                continue
            password = env.get(variable) or secrets.token_urlsafe(12)
            await self.create_account(username, password, role)
            if not env.get(variable):
                generated.append((username, password))
            log.info("created the %s account %s", role, username)
        return generated

    # --- tokens --------------------------------------------------------------------------

    def access_token(self, user_id: str, username: str, role: str) -> str:
        issued = int(time.time())
        claims = {
            "sub": user_id,
            "name": username,
            "role": role,
            "iat": issued,
            "exp": issued + int(self.settings.access_ttl),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The caller a token names. A token already verified is only checked for expiry:
        PyJWT's decode costs ~0.4 ms, and a device sends the same token for 15 minutes."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires:
                return principal
            del self._verified[token]
        principal, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "role", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the access token has expired; refresh it") from None
        except jwt.PyJWTError:
            raise Unauthorized("the access token is not valid") from None
        if claims["role"] not in ROLES or not isinstance(claims.get("name"), str):
            raise Unauthorized("the access token is not valid")
        return Principal(claims["sub"], claims["name"], claims["role"]), float(claims["exp"])

    async def _pair(self, user_id: str, username: str, role: str, family: str) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(32)
        await self.tables.add_refresh(
            _hash_refresh(refresh), family, user_id, self.settings.refresh_ttl
        )
        return {
            "access_token": self.access_token(user_id, username, role),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": int(self.settings.access_ttl),
            "role": role,
        }

    async def login(self, username: str, password: str, client: str) -> dict[str, Any]:
        self.throttle.check(username, client)
        account = await self.tables.account(username)
        hashed = account["password_hash"] if account is not None else None
        if not await self.check_password(password, hashed) or account is None:
            self.throttle.failed(username, client)
            raise Unauthorized("unknown username or wrong password")
        self.throttle.succeeded(username)
        return await self._pair(account["user_id"], username, account["role"], uuid.uuid4().hex)

    async def refresh(self, token: str) -> dict[str, Any]:
        row = await self.tables.refresh_token(_hash_refresh(token))
        if row is None:
            raise Unauthorized("the refresh token is not valid")
        if not await self.tables.use_refresh(row["token_hash"]):
            revoked = await self.tables.revoke_family(row["family_id"])
            log.warning(
                "refresh token reused for user %s; revoked %d token(s) of its login",
                row["user_id"],
                revoked,
            )
            raise Unauthorized("the refresh token was already used; this login is revoked")
        if row["expires_at"] < time.time():
            raise Unauthorized("the refresh token has expired; log in again")
        account = await self.tables.account_by_id(row["user_id"])
        if account is None:
            raise Unauthorized("the account no longer exists")
        return await self._pair(
            account["user_id"], account["username"], account["role"], row["family_id"]
        )

    async def logout(self, principal: Principal, token: str) -> None:
        row = await self.tables.refresh_token(_hash_refresh(token))
        if row is None or row["user_id"] != principal.user_id:
            raise Unauthorized("the refresh token is not valid")
        await self.tables.revoke_family(row["family_id"])

    async def refresh_record(self, token: str) -> Any:
        """The stored row of a refresh token (None if unknown), for a caller with its own
        refresh rules: the original devices' layer (api/compat) never rotates one."""
        return await self.tables.refresh_token(_hash_refresh(token))


def _lower_priority() -> None:
    """Hashing threads yield the CPU to the event loop and the actors (Linux: per thread)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def validate_credentials(username: str, password: str) -> None:
    errors = []
    if not (3 <= len(username) <= 64) or not all(c.isalnum() or c in "._-@" for c in username):
        errors.append(
            {"field": "username", "message": "3-64 characters: letters, digits, '.', '_', '-', '@'"}
        )
    if len(password) < 8:
        errors.append({"field": "password", "message": "at least 8 characters"})
    elif len(password.encode()) > 72:
        errors.append({"field": "password", "message": "at most 72 bytes"})
    if errors:
        raise ValidationError(f"{errors[0]['field']}: {errors[0]['message']}", errors)


def load_secret(configured: str, data_dir: Path) -> bytes:
    """The configured HS256 key, else the one generated into the data dir on first start."""
    if configured:
        if len(configured.encode()) < 32:
            raise ValueError("auth.jwt_secret must be at least 32 bytes")
        return configured.encode()
    path = data_dir / KEY_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key

"""The original clients' auth, on our accounts and tokens.

Fridges: `device_id` is the username and password rules are ours. A login made through
the layer is marked as original: its refresh token is presented again and again (the
original never rotates it), so `/api/client/refresh` hands out a new access token and
keeps the refresh token. Native logins keep single-use refresh tokens with reuse
detection, and a native refresh token is refused here. A marked token that was exchanged
on the native path (`/api/auth/refresh`) is dead: presenting it here again revokes its
login, as the native path does.

Trucks: the original truck UI sends no credentials. Its calls act as
`compat.truck_account` only when the operator opts in (`compat.truck_without_auth`), and
only while the API listens on a loopback address unless `compat.insecure` (`--insecure`)
is set: the stance of the ZeroMQ transports. A truck UI that sends a truck's access token
is that truck.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass, field

from aiohttp import web

from autogrocery.api.auth import Auth
from autogrocery.api.compat.tables import CompatTables
from autogrocery.api.problems import Unauthorized
from autogrocery.api.state import principal, state
from autogrocery.api.tokens import Principal
from autogrocery.config import Config

log = logging.getLogger(__name__)

ENABLE_TRUCK = (
    "the original truck UI sends no credentials; to accept it as the truck account "
    "{account!r}, set [compat] truck_without_auth = true (or run with "
    "-o compat.truck_without_auth=true; accepted only while the store listens on a "
    "loopback address, unless --insecure), or send a truck's access token as "
    "Authorization: Bearer <token>"
)
NOT_A_DEVICE = (
    "{role} accounts log in at /api/auth/login: the original client API logs in devices only"
)


async def login(
    auth: Auth, tables: CompatTables, device_id: str, password: str, client: str
) -> dict[str, str]:
    """Our login (throttling included), marked as one whose refresh token does not rotate.
    Devices only: an operator's or a truck's login keeps native rotation."""
    tokens = await auth.login(device_id, password, client, refuse_role=_not_a_device)
    row = await auth.refresh_record(tokens["refresh_token"])
    if row is None:  # stored in the login's own transaction, just now
        raise RuntimeError("the refresh token just issued is not stored")
    await tables.mark_original(row["family_id"])
    return {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}


def _not_a_device(role: str) -> str | None:
    return None if role == "device" else NOT_A_DEVICE.format(role=role)


async def refresh(auth: Auth, tables: CompatTables, token: str) -> str:
    """A new access token for the refresh token of an original login, which stays valid."""
    row = await auth.refresh_record(token)
    if row is None:
        raise Unauthorized("the refresh token is not valid; log in again")
    if not await tables.is_original(row["family_id"]):
        raise Unauthorized(
            "this refresh token is from /api/auth/login and is single-use: "
            "refresh it at /api/auth/refresh"
        )
    if row["revoked_at"] is not None:
        raise Unauthorized("this login was revoked; log in again")
    if row["used_at"] is not None:  # exchanged on the native path: a replay
        await auth.revoke_login(row["family_id"])  # its access tokens too, at once
        log.warning("rotated refresh token reused for user %s; revoked its login", row["user_id"])
        raise Unauthorized("the refresh token was already exchanged; this login is revoked")
    if row["expires_at"] < time.time():
        raise Unauthorized("the refresh token has expired; log in again")
    account = await auth.tables.account_by_id(row["user_id"])
    if account is None:
        raise Unauthorized("the account no longer exists")
    if account["disabled_at"] is not None:  # (disabling also revoked its logins)
        raise Unauthorized("the account is disabled")
    if account["role"] != "device":
        raise Unauthorized(NOT_A_DEVICE.format(role=account["role"]))
    # Of its login (family), so a logout or a revoked login stops it at once.
    return auth.tokens.access_token(
        account["user_id"], account["username"], account["role"], row["family_id"]
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(config: Config) -> str | None:
    """Why `autogrocery run` must not start with this compat setting, or None."""
    c, host = config.compat, config.api.host
    if not (c.original and c.truck_without_auth) or c.insecure or is_loopback(host):
        return None
    return (
        f"compat: refusing to accept the original truck UI without credentials on {host}; "
        "listen on a loopback address (--host 127.0.0.1) or pass --insecure"
    )


@dataclass
class TruckStance:
    account: str
    refused: str | None  # why a call without credentials is refused; None: accepted
    _acting: Principal | None = field(default=None, repr=False)

    @classmethod
    def of(cls, config: Config) -> TruckStance:
        c = config.compat
        refused = (
            ENABLE_TRUCK.format(account=c.truck_account)
            if not c.truck_without_auth
            else exposure(config)
        )
        return cls(c.truck_account, refused)

    async def caller(self, request: web.Request) -> Principal:
        """The truck a truck UI call acts as."""
        if request.headers.get("Authorization"):
            return principal(request, "truck")
        if self.refused is not None:
            raise Unauthorized(self.refused)
        if self._acting is None:
            account = await state(request).tables.account(self.account)
            if account is None or account["role"] != "truck":
                raise Unauthorized(
                    f"compat.truck_account {self.account!r} is not a truck account; create it "
                    "(POST /api/ops/accounts) or name another"
                )
            self._acting = Principal(account["user_id"], account["username"], "truck")
        why = state(request).auth.revocations.why_dead(self._acting.user_id, "", "")
        if why is not None:  # an operator disabled the truck account
            raise Unauthorized(f"compat.truck_account {self.account!r}: {why}")
        return self._acting

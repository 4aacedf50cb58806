"""Access tokens: HS256 JWTs that name their caller (`Principal`), signed with the key
`load_secret` keeps in the data dir, verified once and then remembered, and refused at
once when logout, a revoked login or a disabled account kills them (`Revocations`)."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt

from autogrocery.api.problems import Forbidden, Unauthorized
from autogrocery.api.revocations import Revocations

ROLES = ("device", "truck", "operator")
ALGORITHM = "HS256"
KEY_FILE = "jwt.key"
VERIFIED_CACHE = 10_000  # tokens remembered as verified (oldest forgotten first)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: str
    jti: str = ""  # the access token's id, its expiry and its login (refresh family)
    expires: float = 0.0
    family: str = ""

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role; you are {self.role}")


class Tokens:
    def __init__(self, secret: bytes, access_ttl: float, revocations: Revocations) -> None:
        self.secret = secret
        self.access_ttl = access_ttl
        self.revocations = revocations
        self._verified: dict[str, tuple[Principal, float]] = {}

    def access_token(self, user_id: str, username: str, role: str, family: str = "") -> str:
        """A signed access token; `family` names the login (refresh family) it belongs to,
        so revoking that login kills it too."""
        issued = int(time.time())
        claims = {
            "sub": user_id,
            "name": username,
            "role": role,
            "iat": issued,
            "exp": issued + int(self.access_ttl),
            "jti": uuid.uuid4().hex,
        }
        if family:
            claims["fam"] = family
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The caller a token names. A token already verified is only checked for expiry
        and revocation: PyJWT's decode costs ~0.4 ms, and a device sends the same token
        for 15 minutes."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires:
                self._check_live(principal)
                return principal
            del self._verified[token]
        principal, expires = self._decode(token)
        self._check_live(principal)
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, expires)
        return principal

    def _check_live(self, principal: Principal) -> None:
        why = self.revocations.why_dead(principal.user_id, principal.jti, principal.family)
        if why is not None:
            raise Unauthorized(why)

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
        expires = float(claims["exp"])
        family = claims.get("fam", "")
        principal = Principal(
            claims["sub"],
            claims["name"],
            claims["role"],
            str(claims["jti"]),
            expires,
            family if isinstance(family, str) else "",
        )
        return principal, expires


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

"""Bodies of signing up, logging in and refreshing (routes_auth.py), and of the operators'
accounts (routes_accounts.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from autogrocery.contract.base import Body, Request

Role = Annotated[
    Literal["device", "truck", "operator"], Meta(title="Role", description="A caller's role.")
]
Username = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=64,
        description="Letters, digits, '.', '_', '-', '@'; compared and stored as RFC 8265 "
        "(PRECIS UsernameCaseMapped) enforces it: `Admin` and fullwidth `admin` (U+FF41…) "
        "are `admin`. Letters from more than one script (a Cyrillic U+0430 among Latin "
        "letters) are refused.",
    ),
]
Password = Annotated[
    str, Meta(min_length=8, description="At least 8 characters, at most 72 bytes (UTF-8).")
]


# --- requests ---------------------------------------------------------------------------


class RegisterRequest(Request):
    username: Username
    password: Password
    email: str | None = None
    phone: str | None = None


class LoginRequest(Request):
    username: str
    password: str


class RefreshRequest(Request):
    refresh_token: Annotated[str, Meta(description="From login or the last refresh.")]


class CreateAccountRequest(Request):
    username: Username
    password: Password
    role: Role


# --- responses --------------------------------------------------------------------------


class Account(Body):
    user_id: Annotated[str, Meta(examples=["usr_0123456789abcdef0123"])]
    username: str
    role: Role


class AccountState(Body):
    user_id: Annotated[str, Meta(examples=["usr_0123456789abcdef0123"])]
    username: str
    role: Role
    disabled: Annotated[bool, Meta(description="A disabled account's tokens are refused.")]


class TokenPair(Body):
    access_token: Annotated[str, Meta(description="HS256 JWT: sub, name, role, iat, exp, jti.")]
    refresh_token: Annotated[str, Meta(description="Opaque and single-use.")]
    token_type: Literal["Bearer"]
    expires_in: Annotated[int, Meta(description="Access-token lifetime in seconds.")]
    role: Role

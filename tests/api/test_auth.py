"""Accounts, tokens, refresh rotation with theft detection, throttling, roles."""

from __future__ import annotations

import time

import jwt
import pytest

from autogrocery.api.state import STATE
from tests.api.conftest import ADMIN_PASSWORD, Api, ApiFactory


async def test_register_login_me(api: Api) -> None:
    status, body, _ = await api.call(
        "POST",
        "/api/auth/register",
        json={"username": "fridge-7", "password": "longenough", "email": "a@b.c"},
    )
    assert status == 201
    assert body["username"] == "fridge-7"
    assert body["role"] == "device"
    assert body["user_id"]
    tokens = await api.login("fridge-7", "longenough")
    assert tokens["token_type"] == "Bearer"
    assert tokens["role"] == "device"
    assert tokens["expires_in"] == 900
    status, me, _ = await api.call(
        "GET", "/api/auth/me", {"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert status == 200
    assert me == {
        "user_id": body["user_id"],
        "username": "fridge-7",
        "role": "device",
    }
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert {"sub", "role", "exp", "iat", "jti"} <= set(claims)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"username": "fridge-1", "password": "short"}, 400),
        ({"username": "x", "password": "longenough"}, 400),
        ({"username": "fridge-1"}, 400),
        ({"username": "fridge-1", "password": "longenough", "role": "operator"}, 400),
        ({"username": 5, "password": "longenough"}, 400),
    ],
)
async def test_bad_registrations_are_refused(api: Api, payload: dict, status: int) -> None:
    got, body, response = await api.call("POST", "/api/auth/register", json=payload)
    assert got == status
    assert response.content_type == "application/problem+json"
    assert body["status"] == status
    got, _, _ = await api.call(
        "POST", "/api/auth/login", json={"username": "fridge-1", "password": "longenough"}
    )
    assert got == 401  # nothing was created


async def test_taken_username_is_a_conflict(api: Api) -> None:
    await api.device("fridge-1")
    status, body, _ = await api.call(
        "POST", "/api/auth/register", json={"username": "fridge-1", "password": "another-one"}
    )
    assert status == 409
    assert body["title"] == "Conflict"


async def test_unknown_user_and_wrong_password_look_the_same(api: Api) -> None:
    await api.device("fridge-1")
    wrong = await api.call(
        "POST", "/api/auth/login", json={"username": "fridge-1", "password": "not-the-password"}
    )
    unknown = await api.call(
        "POST", "/api/auth/login", json={"username": "nobody-here", "password": "not-the-password"}
    )
    assert wrong[0] == unknown[0] == 401
    assert wrong[1]["detail"] == unknown[1]["detail"]
    assert wrong[2].headers["WWW-Authenticate"].startswith("Bearer")


async def test_refresh_rotates_and_a_reused_token_revokes_the_login(api: Api) -> None:
    await api.device("fridge-1")
    first = await api.login("fridge-1", "fridge-pass-1")
    status, second, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    stolen, body, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert stolen == 401
    assert "already used" in body["detail"]
    status, _, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert status == 401, "reuse of an old token must revoke the whole family"
    other = await api.login("fridge-1", "fridge-pass-1")  # a new login is unaffected
    status, _, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert status == 200


async def test_logout_revokes_the_family(api: Api) -> None:
    await api.device("fridge-1")
    tokens = await api.login("fridge-1", "fridge-pass-1")
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, _, _ = await api.call(
        "POST", "/api/auth/logout", bearer, json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 204
    status, _, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 401
    status, _, _ = await api.call(
        "POST", "/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 401  # logout needs a bearer token


async def test_failed_logins_are_throttled_with_retry_after(make_api: ApiFactory) -> None:
    api = await make_api("auth.login_max_failures=3")
    await api.device("fridge-1")
    for _ in range(3):
        status, _, _ = await api.call(
            "POST", "/api/auth/login", json={"username": "fridge-1", "password": "wrong-pass"}
        )
        assert status == 401
    status, body, response = await api.call(
        "POST", "/api/auth/login", json={"username": "fridge-1", "password": "fridge-pass-1"}
    )
    assert status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert body["status"] == 429
    await api.login("admin", ADMIN_PASSWORD)  # other usernames are not locked out


def _token(secret: bytes | str, algorithm: str = "HS256", **claims: object) -> str:
    now = int(time.time())
    payload = {
        "sub": "usr_x",
        "name": "x",
        "role": "operator",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        **claims,
    }
    return jwt.encode(payload, secret, algorithm=algorithm)


async def test_bad_tokens_are_401_with_www_authenticate(api: Api) -> None:
    key = api.client.app[STATE].auth.tokens.secret
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    claims = jwt.utils.base64url_encode(
        b'{"sub":"usr_x","name":"x","role":"operator","iat":1,"exp":99999999999,"jti":"j"}'
    ).decode()
    cases = {
        "missing": {},
        "garbled": {"Authorization": "Bearer not.a.token"},
        "wrong scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "expired": {"Authorization": "Bearer " + _token(key, exp=int(time.time()) - 5)},
        "alg none": {"Authorization": f"Bearer {header}.{claims}."},
        "wrong key": {"Authorization": "Bearer " + _token(b"k" * 32)},
        "no jti": {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": "u", "name": "x", "role": "operator", "iat": 1, "exp": 9999999999}, key
            )
        },
    }
    for name, headers in cases.items():
        status, body, response = await api.call("GET", "/api/ops/inventory", headers)
        assert status == 401, name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert body["status"] == 401, name


async def test_operators_create_truck_and_operator_accounts(api: Api) -> None:
    operator = await api.operator()
    status, body, _ = await api.call(
        "POST",
        "/api/ops/accounts",
        operator,
        json={"username": "truck-2", "password": "truck-pass-2", "role": "truck"},
    )
    assert status == 201
    assert body["role"] == "truck"
    assert (await api.login("truck-2", "truck-pass-2"))["role"] == "truck"
    status, _, _ = await api.call(
        "POST",
        "/api/ops/accounts",
        operator,
        json={"username": "x-2", "password": "truck-pass-2", "role": "king"},
    )
    assert status == 400
    device = await api.device()
    status, _, _ = await api.call(
        "POST",
        "/api/ops/accounts",
        device,
        json={"username": "sneaky", "password": "sneaky-pass", "role": "operator"},
    )
    assert status == 403


async def test_no_log_line_carries_a_password_or_token(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    await api.device("fridge-9")
    tokens = await api.login("fridge-9", "fridge-pass-1")
    await api.call("POST", "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await api.call("POST", "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await api.call("GET", f"/api/ops/robots?token={tokens['access_token']}")
    secrets = ("fridge-pass-1", tokens["access_token"], tokens["refresh_token"], ADMIN_PASSWORD)
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert not any(secret in text for secret in secrets), record.getMessage()

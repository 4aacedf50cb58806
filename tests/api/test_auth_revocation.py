"""Token revocation that cannot be raced or outlived: refresh-token reuse kills the whole
login at once, logout kills the access token, and a disabled account stops at once."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import jwt

from autogrocery.api.state import STATE
from tests.api.conftest import Api

RACERS = 50


async def _status(api: Api, access_token: str, path: str = "/api/auth/me") -> int:
    status, _, _ = await api.call("GET", path, {"Authorization": f"Bearer {access_token}"})
    return status


async def _refresh(api: Api, refresh_token: str) -> tuple[int, Any]:
    status, body, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": refresh_token}
    )
    return status, body


async def test_concurrent_reuse_of_a_refresh_token_kills_every_token_of_the_login(
    api: Api,
) -> None:
    for race in range(3):
        await api.device(f"fridge-{race}")
        first = await api.login(f"fridge-{race}", "fridge-pass-1")
        results = await asyncio.gather(
            *(_refresh(api, first["refresh_token"]) for _ in range(RACERS))
        )
        winners = [body for status, body in results if status == 200]
        assert len(winners) <= 1, f"race {race}: one refresh token rotated twice"
        assert all(status in (200, 401) for status, _ in results), results
        assert len(winners) < RACERS  # the token was reused: this login is revoked
        for winner in winners:  # the pair issued to the winner is dead too
            status, _ = await _refresh(api, winner["refresh_token"])
            assert status == 401, f"race {race}: the winner's new refresh token still works"
            assert await _status(api, winner["access_token"]) == 401, (
                f"race {race}: the winner's new access token still works"
            )
        assert await _status(api, first["access_token"]) == 401
        other = await api.login(f"fridge-{race}", "fridge-pass-1")  # a new login works
        assert await _status(api, other["access_token"]) == 200
        assert (await _refresh(api, other["refresh_token"]))[0] == 200


async def test_logout_kills_the_access_token_at_once(api: Api) -> None:
    await api.device("fridge-1")
    tokens = await api.login("fridge-1", "fridge-pass-1")
    other = await api.login("fridge-1", "fridge-pass-1")  # another login of the same device
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert await _status(api, tokens["access_token"], "/api/orders") == 200  # now cached
    status, _, _ = await api.call(
        "POST", "/api/auth/logout", bearer, json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 204
    for path in ("/api/auth/me", "/api/orders", "/api/catalog"):
        assert await _status(api, tokens["access_token"], path) == 401, path
    status, body, _ = await api.call("GET", "/api/orders", bearer)
    assert "revoked" in body["detail"]
    assert await _status(api, other["access_token"]) == 200  # only that login ended
    assert (await _refresh(api, other["refresh_token"]))[0] == 200


async def test_a_disabled_account_stops_at_once_and_can_be_enabled(api: Api) -> None:
    device = await api.device("fridge-1")
    tokens = await api.login("fridge-1", "fridge-pass-1")
    operator = await api.operator()
    items = {"items": [{"sku": "BRD-001", "quantity": 1}]}
    status, _, _ = await api.call("POST", "/api/orders/preview", device, json=items)
    assert status == 201
    status, body, _ = await api.call("POST", "/api/ops/accounts/fridge-1/disable", operator)
    assert status == 200
    assert body["username"] == "fridge-1"
    assert body["disabled"] is True
    before = await api.snapshot()
    status, body, _ = await api.call("POST", "/api/orders/preview", device, json=items)
    assert status == 401, "a disabled account's token still reserves stock"
    assert "disabled" in body["detail"]
    assert await api.snapshot() == before
    assert await _status(api, tokens["access_token"]) == 401
    assert (await _refresh(api, tokens["refresh_token"]))[0] == 401
    status, _, _ = await api.call(
        "POST", "/api/auth/login", json={"username": "fridge-1", "password": "fridge-pass-1"}
    )
    assert status == 401

    status, body, _ = await api.call("POST", "/api/ops/accounts/fridge-1/enable", operator)
    assert status == 200
    assert body["disabled"] is False
    assert await _status(api, tokens["access_token"]) == 401  # its old logins stay revoked
    fresh = await api.bearer("fridge-1", "fridge-pass-1")
    status, _, _ = await api.call("POST", "/api/orders/preview", fresh, json=items)
    assert status == 201

    status, _, _ = await api.call("POST", "/api/ops/accounts/nobody-here/disable", operator)
    assert status == 404
    status, _, _ = await api.call("POST", "/api/ops/accounts/admin/disable", device)
    assert status == 401  # re-login gave a new token, but `device` is the old, dead one
    status, _, _ = await api.call("POST", "/api/ops/accounts/admin/disable", fresh)
    assert status == 403


async def test_revocations_survive_a_restart(make_api: Any) -> None:
    api: Api = await make_api()
    await api.device("fridge-1")
    await api.device("fridge-2")
    out = await api.login("fridge-1", "fridge-pass-1")
    bearer = {"Authorization": f"Bearer {out['access_token']}"}
    status, _, _ = await api.call(
        "POST", "/api/auth/logout", bearer, json={"refresh_token": out["refresh_token"]}
    )
    assert status == 204
    disabled = await api.login("fridge-2", "fridge-pass-1")
    status, _, _ = await api.call(
        "POST", "/api/ops/accounts/fridge-2/disable", await api.operator()
    )
    assert status == 200
    await api.client.close()
    await api.system.stop()

    again: Api = await make_api(config=api.config)
    assert await _status(again, out["access_token"]) == 401
    assert await _status(again, disabled["access_token"]) == 401
    assert (
        await _status(again, (await again.login("fridge-1", "fridge-pass-1"))["access_token"])
        == 200
    )


async def test_a_disabled_accounts_event_stream_is_closed(api: Api) -> None:
    admin = await api.operator()
    status, _, _ = await api.call(
        "POST",
        "/api/ops/accounts",
        admin,
        json={"username": "ops-2", "password": "ops-pass-2", "role": "operator"},
    )
    assert status == 201
    second = await api.bearer("ops-2", "ops-pass-2")
    async with api.client.ws_connect("/api/events", headers=second) as ws:
        first = await ws.receive(timeout=5)  # metrics.tick, once a second
        assert first.type == aiohttp.WSMsgType.TEXT
        status, _, _ = await api.call("POST", "/api/ops/accounts/ops-2/disable", admin)
        assert status == 200
        async with asyncio.timeout(5):  # closed at its next event
            while (message := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
                pass
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_revoking_a_login_by_its_family_kills_its_tokens(api: Api) -> None:
    """`Auth.revoke_login`: for callers with their own refresh rules (api/compat)."""
    await api.device("fridge-1")
    tokens = await api.login("fridge-1", "fridge-pass-1")
    other = await api.login("fridge-1", "fridge-pass-1")
    auth = api.client.app[STATE].auth
    family = jwt.decode(tokens["access_token"], options={"verify_signature": False})["fam"]
    await auth.revoke_login(family)
    assert await _status(api, tokens["access_token"]) == 401
    assert (await _refresh(api, tokens["refresh_token"]))[0] == 401
    assert await _status(api, other["access_token"]) == 200

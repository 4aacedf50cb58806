"""The original clients' auth: device_id logins whose refresh token does not rotate,
native rotation and reuse detection untouched, and the truck UI's stance."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator

import aiohttp
import pytest

from autogrocery.domain.models import OrderKind
from autogrocery.store.db import DB_NAME
from tests.api.conftest import ADMIN_PASSWORD, TRUCK_PASSWORD, ApiFactory
from tests.api.original_clients import OriginalFridge, send
from tests.helpers import wait_final

ON = ("compat.original=true",)
PASSWORD = "fridge-pass-1"
DELIVERY = {
    "supplier_id": "SUPP-1",
    "supplier_name": "Bakery",
    "items": [
        {
            "sku": "BRD-001",
            "name": "Sourdough loaf",
            "aisle_type": "bread",
            "quantity": 3,
            "unit_cost": 3.1,
            "mfd_date": "",
            "expiry_date": "",
        }
    ],
}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def compat_login(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    payload = {"device_id": "fridge-9", "email": "", "phone": "", "password": PASSWORD}
    assert (await send(session, "POST", f"{url}api/client/register", payload)).status_code == 201
    res = await send(
        session, "POST", f"{url}api/client/login", {"device_id": "fridge-9", "password": PASSWORD}
    )
    assert res.status_code == 200
    tokens = res.json()
    assert set(tokens) == {"access_token", "refresh_token"}
    return dict(tokens)


async def orders_status(session: aiohttp.ClientSession, url: str, access: str) -> int:
    headers = {"Authorization": f"Bearer {access}"}
    return (await send(session, "GET", f"{url}api/client/orders", None, headers)).status_code


async def compat_refresh(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"}
    res = await send(session, "POST", f"{url}api/client/refresh", None, headers)
    return res.status_code, res.text


async def test_an_original_login_refreshes_many_times_with_one_refresh_token(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    tokens = await compat_login(session, url)
    for _ in range(3):
        status, text = await compat_refresh(session, url, tokens["refresh_token"])
        assert status == 200, text
        fresh = json.loads(text)
        assert set(fresh) == {"access_token"}
        status, me, _ = await api.call(
            "GET", "/api/auth/me", {"Authorization": f"Bearer {fresh['access_token']}"}
        )
        assert (status, me["username"], me["role"]) == (200, "fridge-9", "device")


@pytest.mark.parametrize(
    ("username", "password", "role"),
    [("admin", ADMIN_PASSWORD, "operator"), ("truck-1", TRUCK_PASSWORD, "truck")],
)
async def test_only_devices_get_a_refresh_token_that_never_rotates(
    make_api: ApiFactory, session: aiohttp.ClientSession, username: str, password: str, role: str
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    before = await api.snapshot()
    body = {"device_id": username, "password": password}
    res = await send(session, "POST", f"{url}api/client/login", body)
    assert (res.status_code, res.content_type) == (401, "text/plain")
    assert res.text == (
        f"{role} accounts log in at /api/auth/login: the original client API logs in devices only\n"
    )
    assert await api.snapshot() == before
    with contextlib.closing(sqlite3.connect(api.config.data_path / DB_NAME)) as db:
        assert db.execute("SELECT COUNT(*) FROM refresh_tokens").fetchone() == (0,)  # no login
    # The native login of the same account still rotates its refresh token.
    native = await api.login(username, password)
    status, _ = await compat_refresh(session, url, native["refresh_token"])
    assert status == 401


async def test_native_refresh_tokens_still_rotate_and_are_refused_by_the_layer(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    await api.device("fridge-1")
    native = await api.login("fridge-1", "fridge-pass-1")
    status, text = await compat_refresh(session, url, native["refresh_token"])
    assert status == 401
    assert "/api/auth/refresh" in text
    # Rotation and theft detection as before: the first use works, a replay revokes.
    status, pair, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": native["refresh_token"]}
    )
    assert status == 200
    status, _, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": native["refresh_token"]}
    )
    assert status == 401
    status, _, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert status == 401, "the replay revoked the whole login"


async def test_an_original_token_exchanged_natively_is_dead_and_its_replay_revokes_the_login(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    tokens = await compat_login(session, url)
    status, stolen, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 200
    status, text = await compat_refresh(session, url, tokens["refresh_token"])
    assert (status, "revoked" in text) == (401, True)
    for access in (tokens["access_token"], stolen["access_token"]):  # dead at once too
        assert await orders_status(session, url, access) == 401
    status, _, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert status == 401


async def test_logout_revokes_an_original_login(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    tokens = await compat_login(session, url)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, _, _ = await api.call(
        "POST", "/api/auth/logout", bearer, json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 204
    status, text = await compat_refresh(session, url, tokens["refresh_token"])
    assert (status, text) == (401, "this login was revoked; log in again\n")


async def test_access_tokens_from_an_original_refresh_end_with_their_login(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    tokens = await compat_login(session, url)
    status, refreshed = await compat_refresh(session, url, tokens["refresh_token"])
    assert status == 200
    access = json.loads(refreshed)["access_token"]
    assert await orders_status(session, url, access) == 200
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, _, _ = await api.call(
        "POST", "/api/auth/logout", bearer, json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 204
    assert await orders_status(session, url, access) == 401


async def test_a_disabled_account_gets_no_new_access_token(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    url = str(api.client.make_url("/"))
    tokens = await compat_login(session, url)
    operator = await api.operator()
    status, _, _ = await api.call("POST", "/api/ops/accounts/fridge-9/disable", operator)
    assert status == 200
    status, text = await compat_refresh(session, url, tokens["refresh_token"])
    assert status == 401, text


async def test_a_fridge_with_an_expired_access_token_refreshes_once_and_goes_on(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON)
    fridge = OriginalFridge(session, str(api.client.make_url("/")))
    await fridge.register("fridge-5", PASSWORD)
    assert await fridge.login("fridge-5", PASSWORD)
    fridge.token = "expired-or-garbage"
    shown = await fridge.stock_scan([("BRD-001", 1)])
    assert shown[0].startswith("SCAN SUCCESSFUL"), shown
    assert fridge.token != "expired-or-garbage"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ((), "truck_without_auth = true"),
        (("compat.truck_without_auth=true", "api.host=0.0.0.0"), "--insecure"),
        (("compat.truck_without_auth=true", "compat.truck_account=nobody"), "'nobody'"),
    ],
)
async def test_the_truck_ui_without_credentials_is_refused_unless_the_operator_opts_in(
    make_api: ApiFactory, session: aiohttp.ClientSession, overrides: tuple[str, ...], words: str
) -> None:
    api = await make_api(*ON, *overrides)
    url = str(api.client.make_url("/"))
    before = await api.snapshot()
    res = await send(session, "POST", f"{url}api/truck/restock", DELIVERY)
    assert res.status_code == 401
    assert res.content_type == "text/plain"
    assert words in res.text
    res = await send(session, "GET", f"{url}api/truck/restock/status", params={"order_id": "x"})
    assert (res.status_code, words in res.text) == (401, True)
    assert await api.snapshot() == before
    # A truck UI that sends a truck's token is that truck, whatever the stance.
    truck = await api.truck()
    res = await send(session, "POST", f"{url}api/truck/restock", DELIVERY, truck)
    assert res.status_code == 201, res.text
    status, restock, _ = await api.call("GET", f"/api/restocks/{res.json()['order_id']}", truck)
    assert (status, restock["total_cost"]) == (200, "9.30")


@pytest.mark.parametrize(
    "overrides",
    [
        ("compat.truck_without_auth=true",),
        ("compat.truck_without_auth=true", "api.host=0.0.0.0", "compat.insecure=true"),
    ],
)
async def test_an_opted_in_truck_ui_acts_as_the_configured_truck(
    make_api: ApiFactory, session: aiohttp.ClientSession, overrides: tuple[str, ...]
) -> None:
    api = await make_api(*ON, *overrides)
    res = await send(session, "POST", f"{api.client.make_url('/')}api/truck/restock", DELIVERY)
    assert res.status_code == 201, res.text
    truck = await api.bearer("truck-1", TRUCK_PASSWORD)
    status, listing, _ = await api.call("GET", "/api/restocks", truck)
    assert status == 200
    assert [r["restock_id"] for r in listing["restocks"]] == [res.json()["order_id"]]


async def test_a_disabled_truck_account_stops_the_truck_ui_at_once(
    make_api: ApiFactory, session: aiohttp.ClientSession
) -> None:
    api = await make_api(*ON, "compat.truck_without_auth=true")
    restock = f"{api.client.make_url('/')}api/truck/restock"
    assert (await send(session, "POST", restock, DELIVERY)).status_code == 201
    accepted, _ = await api.system.list_orders(limit=10, kind=OrderKind.RESTOCK)
    # shelved before the snapshot: robots still at work would change what it holds
    await wait_final(api.system, [], restocks=[r.order_id for r in accepted])
    operator = await api.operator()
    status, _, _ = await api.call("POST", "/api/ops/accounts/truck-1/disable", operator)
    assert status == 200
    before = await api.snapshot()
    res = await send(session, "POST", restock, DELIVERY)
    assert (res.status_code, "disabled" in res.text) == (401, True)
    assert await api.snapshot() == before

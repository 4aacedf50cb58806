"""Look-alike usernames: compared as RFC 8265 (PRECIS UsernameCaseMapped) enforces
them, and names that mix scripts (a Cyrillic U+0430 among Latin letters) are refused."""

from __future__ import annotations

import pytest

from tests.api.conftest import ADMIN_PASSWORD, Api


async def _register(api: Api, username: str) -> tuple[int, dict]:
    status, body, _ = await api.call(
        "POST", "/api/auth/register", json={"username": username, "password": "look-alike-1"}
    )
    return status, body


@pytest.mark.parametrize(
    "name",
    [
        "Admin",  # case
        "ADMIN",
        "\uff41\uff44\uff4d\uff49\uff4e",  # fullwidth admin
        "\uff21dmin",  # fullwidth A + ASCII
    ],
)
async def test_case_and_width_variants_are_the_same_account(api: Api, name: str) -> None:
    status, _ = await _register(api, name)
    assert status == 409, f"{name!r} registered as a new account"
    tokens = await api.login(name, ADMIN_PASSWORD)  # and they log in as admin
    assert tokens["role"] == "operator"


@pytest.mark.parametrize(
    "name",
    [
        "\u0430dmin",  # Cyrillic a + Latin "dmin"
        "p\u0430ypal",  # a Cyrillic a inside Latin
        "fr\u0456dge-1",  # Cyrillic i
        "\u03c1aul",  # Greek rho + Latin
    ],
)
async def test_mixed_script_look_alikes_are_refused(api: Api, name: str) -> None:
    before = await _register(api, "someone-else")
    assert before[0] == 201
    status, body = await _register(api, name)
    assert status == 400, f"{name!r} was accepted"
    assert body["errors"][0]["field"] == "username"
    assert "script" in body["detail"]
    status, _, _ = await api.call(
        "POST", "/api/auth/login", json={"username": name, "password": "look-alike-1"}
    )
    assert status == 401


async def test_a_name_is_stored_and_shown_in_its_enforced_form(api: Api) -> None:
    status, body = await _register(api, "Fridge-7")
    assert status == 201
    assert body["username"] == "fridge-7"
    for spelling in ("fridge-7", "FRIDGE-7", "\uff26ridge-7"):
        tokens = await api.login(spelling, "look-alike-1")
        status, me, _ = await api.call(
            "GET", "/api/auth/me", {"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me == {"user_id": body["user_id"], "username": "fridge-7", "role": "device"}


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("\u0438\u0432\u0430\u043d-42", "\u0438\u0432\u0430\u043d-42"),  # all Cyrillic: иван-42
        ("\u0418\u0432\u0430\u043d.k", None),  # Cyrillic + Latin k: mixed
        ("\u5c71\u7530\u305f\u308d\u3046", "\u5c71\u7530\u305f\u308d\u3046"),  # Han + Hiragana
        ("Stra\u00dfe", "stra\u00dfe"),  # ß stays (PRECIS maps case, not ß)
        ("a b c", None),  # spaces
        ("\ufb01sh", None),  # the ﬁ ligature: a compatibility character
        ("ab", None),  # too short
    ],
)
async def test_international_names(api: Api, name: str, stored: str | None) -> None:
    status, body = await _register(api, name)
    if stored is None:
        assert status == 400, body
        assert body["errors"][0]["field"] == "username"
    else:
        assert status == 201, body
        assert body["username"] == stored


async def test_operators_create_accounts_by_the_same_rule(api: Api) -> None:
    operator = await api.operator()
    for name, expected in (("Truck-9", 201), ("truck-9", 409), ("\u0442ruck-10", 400)):
        status, _, _ = await api.call(
            "POST",
            "/api/ops/accounts",
            operator,
            json={"username": name, "password": "truck-pass-9", "role": "truck"},
        )
        assert status == expected, name

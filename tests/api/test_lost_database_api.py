"""The database file deleted while the store runs, as clients see it: no write of any
kind is acknowledged (orders, and the API's own accounts and logins), each refusal is a
503 with Retry-After, and both probes say a restart is needed."""

from __future__ import annotations

import pytest

from autogrocery.store.db import DB_NAME
from tests.api.conftest import Api, ApiFactory

pytestmark = pytest.mark.timeout(60)


async def test_after_the_database_is_deleted_nothing_is_acknowledged(api: Api) -> None:
    fridge = await api.device("fridge-1")
    for path in api.config.data_path.glob(DB_NAME + "*"):
        path.unlink()

    refused = [
        await api.call(
            "POST", "/api/auth/register", json={"username": "fridge-2", "password": "pass-word-2"}
        ),
        await api.call(
            "POST", "/api/auth/login", json={"username": "fridge-1", "password": "fridge-pass-1"}
        ),
        await api.call(
            "POST",
            "/api/orders/preview",
            fridge,
            json={"items": [{"sku": "BRD-001", "quantity": 1}]},
        ),
    ]
    for status, body, response in refused:
        assert status == 503, body
        assert response.content_type == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0

    for probe in ("/healthz", "/readyz"):
        status, body, response = await api.call("GET", probe)
        assert status == 503, body
        assert "deleted" in str(body)
        assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ((), "not valid"),  # the key file: --init makes a new one, so the signature fails
        (("auth.jwt_secret=" + "k" * 40,), "no longer exists"),  # a configured key stays
    ],
)
async def test_tokens_of_a_lost_store_open_nothing_in_the_store_started_afresh(
    make_api: ApiFactory, key: tuple[str, ...], said: str
) -> None:
    first = await make_api(*key)
    fridge = await first.device("fridge-1")
    assert (await first.call("GET", "/api/orders", fridge))[0] == 200
    await first.client.close()
    await first.system.stop()
    for path in first.config.data_path.glob(DB_NAME + "*"):
        path.unlink()

    again = await make_api(config=first.config, init=True)  # `autogrocery run --init`
    for path in ("/api/orders", "/api/auth/me"):
        status, problem, _ = await again.call("GET", path, fridge)
        assert status == 401, problem
        assert said in problem["detail"]
    status, _, _ = await again.call(
        "POST", "/api/orders/preview", fridge, json={"items": [{"sku": "BRD-001", "quantity": 1}]}
    )
    assert status == 401
    assert (await again.system.levels())[0].reserved == 0

"""The database file deleted while the store runs, as clients see it: no write of any
kind is acknowledged (orders, and the API's own accounts and logins), each refusal is a
503 with Retry-After, and both probes say a restart is needed."""

from __future__ import annotations

import pytest

from autogrocery.store.db import DB_NAME
from tests.api.conftest import Api

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

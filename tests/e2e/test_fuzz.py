"""Fuzz: thousands of generated requests against a real server; no 5xx, no traceback,
and the stock books still balance afterwards."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.server import ADMIN_PASSWORD, TRUCK_PASSWORD, Server, start_server, stop_quietly
from tests.helpers import check_invariants

pytestmark = pytest.mark.timeout(300)

FUZZ = settings(
    max_examples=700, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, str]:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read(), response.getheader("Content-Type", "")

    def json(self, method: str, path: str, data: Any, headers: dict[str, str] | None = None) -> Any:
        status, body, _ = self.send(
            method,
            path,
            orjson.dumps(data),
            {"Content-Type": "application/json", **(headers or {})},
        )
        assert status < 300, body
        return orjson.loads(body)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("fuzz") / "store",
        "auth.login_max_failures=100000",
        "auth.login_ip_max_failures=100000",
    )
    try:
        yield running
    finally:
        stop_quietly(running)


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Client]:
    connection = Client(server.url)
    yield connection
    connection.conn.close()


@pytest.fixture(scope="module")
def tokens(client: Client) -> dict[str, dict[str, str]]:
    client.json("POST", "/api/auth/register", {"username": "fuzzer", "password": "fuzz-pass-1"})
    out = {}
    for role, (user, password) in {
        "device": ("fuzzer", "fuzz-pass-1"),
        "truck": ("truck-1", TRUCK_PASSWORD),
        "operator": ("admin", ADMIN_PASSWORD),
    }.items():
        token = client.json("POST", "/api/auth/login", {"username": user, "password": password})[
            "access_token"
        ]
        out[role] = {"Authorization": f"Bearer {token}"}
    return out


def encode(value: Any) -> bytes:
    """stdlib json: it writes what orjson refuses (huge integers, NaN), as clients may."""
    return json.dumps(value).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
skus = st.sampled_from(["BRD-001", "MEA-002", "PRO-003", "DAI-004", "PAR-005", "NOPE", ""])
quantities = st.one_of(
    st.integers(min_value=-5, max_value=1200),
    st.integers(min_value=10**6, max_value=10**20),
    st.floats(),
    st.text(),
)
money = st.one_of(
    st.from_regex(r"\d{1,4}\.\d{2}", fullmatch=True),
    st.text(max_size=8),
    st.floats(),
    st.integers(),
)
lines = st.fixed_dictionaries(
    {"sku": skus, "quantity": quantities}, optional={"unit_cost": money, "extra": json_values}
)
bodies = st.one_of(
    st.fixed_dictionaries({"items": st.lists(lines, max_size=5)}),
    st.fixed_dictionaries({"items": st.lists(lines, max_size=3)}, optional={"x": json_values}),
    json_values,
)
raw_bodies = st.one_of(bodies.map(encode), st.binary(max_size=64))
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", ""]
)
keys = st.one_of(st.none(), st.text(min_size=1, max_size=20))


def check(status: int, body: bytes, content_type: str) -> None:
    assert status < 500, body
    assert b"Traceback" not in body
    if status >= 400:
        assert content_type.startswith("application/problem+json"), (status, body)
        assert orjson.loads(body)["status"] == status


def _headers(token: dict[str, str], content_type: str, key: str | None) -> dict[str, str]:
    headers = dict(token)
    if content_type:
        headers["Content-Type"] = content_type
    if key is not None and key.isascii() and key.isprintable():
        headers["Idempotency-Key"] = key
    return headers


@FUZZ
@given(body=raw_bodies, content_type=content_types, key=keys)
def test_fuzz_preview(
    client: Client, tokens: dict, body: bytes, content_type: str, key: str | None
) -> None:
    check(
        *client.send(
            "POST", "/api/orders/preview", body, _headers(tokens["device"], content_type, key)
        )
    )


@FUZZ
@given(body=raw_bodies, content_type=content_types, key=keys)
def test_fuzz_restock(
    client: Client, tokens: dict, body: bytes, content_type: str, key: str | None
) -> None:
    check(*client.send("POST", "/api/restocks", body, _headers(tokens["truck"], content_type, key)))


@FUZZ
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {
                "delta": quantities,
                "reason": st.sampled_from(["WASTE", "ADJUST", "COUNT", "IN", "x"]),
            },
            optional={"note": json_values},
        ),
        json_values,
    ).map(encode),
    sku=skus,
)
def test_fuzz_adjust(client: Client, tokens: dict, body: bytes, sku: str) -> None:
    check(
        *client.send(
            "POST",
            f"/api/ops/stock/{sku or 'X'}/adjust",
            body,
            _headers(tokens["operator"], "application/json", None),
        )
    )


@FUZZ
@given(
    path=st.sampled_from(
        ["/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/ops/products"]
    ),
    body=st.one_of(
        st.fixed_dictionaries(
            {"username": st.text(max_size=70), "password": st.text(max_size=80)},
            optional={"role": st.text(max_size=9), "refresh_token": st.text(max_size=40)},
        ),
        json_values,
    ).map(encode),
)
def test_fuzz_accounts_and_products(client: Client, tokens: dict, path: str, body: bytes) -> None:
    check(*client.send("POST", path, body, _headers(tokens["operator"], "application/json", None)))


@FUZZ
@given(path=st.text(max_size=30), query=st.text(max_size=30))
def test_fuzz_reads(client: Client, tokens: dict, path: str, query: str) -> None:
    from urllib.parse import quote

    for base in ("/api/orders/", "/api/restocks/", "/api/ops/movements?sku=", "/api/orders?"):
        target = base + quote(path, safe="") + ("&cursor=" + quote(query, safe=""))
        check(*client.send("GET", target, None, tokens["operator"]))


def test_books_balance_after_the_fuzzing(server: Server, client: Client, tokens: dict) -> None:
    check_invariants(server.data_dir, settled=False)
    status, body, _ = client.send("GET", "/readyz")
    assert status == 200, body

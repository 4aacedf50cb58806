"""Fuzz fed from the generated OpenAPI document: for every operation, requests whose
bodies and query parameters hypothesis draws from the document's own schemas, sent to
a real server with a token of a role the operation allows. Path parameters are ids the
store handed out earlier in the run (orders, restocks, lots), real SKUs, or noise, so
confirm, cancel and the reads by id go deep. Every answer must be one the document
declares (status, media type, schema); none is a 5xx; and once everything in flight
has finished, the stock books balance."""

from __future__ import annotations

import contextlib
import http.client
import sqlite3
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autogrocery.store.db import DB_NAME
from tests.api.contract import Contract
from tests.e2e.schema_strategies import from_schema
from tests.e2e.server import ADMIN_PASSWORD, TRUCK_PASSWORD, Server, start_server, stop_quietly
from tests.helpers import check_invariants

pytestmark = pytest.mark.timeout(180)

SKIP = {("get", "/api/events")}  # a WebSocket: tests/api/test_live.py


class Session:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        document = self.send("GET", "/api/openapi.json")[2]
        self.contract = Contract(orjson.loads(document))
        self.tokens: dict[str, dict[str, str]] = {}
        self.statuses: list[tuple[str, str, int]] = []
        self.ids: dict[str, list[str]] = {}  # by field name: ids the store handed out

    def keep_ids(self, value: Any, depth: int = 0) -> None:
        """Remember the ids in a successful answer, for later path parameters."""
        if depth > 3:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                if key.endswith("_id") and isinstance(inner, str):
                    kept = self.ids.setdefault(key, [])
                    if inner not in kept:
                        kept.append(inner)
                else:
                    self.keep_ids(inner, depth + 1)
        elif isinstance(value, list):
            for inner in value[:20]:
                self.keep_ids(inner, depth + 1)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        self.headers = response.msg  # the last answer's headers (case-insensitive)
        media = (response.getheader("Content-Type") or "").split(";")[0]
        return response.status, media, response.read()

    def login(self, role: str, username: str, password: str) -> None:
        credentials = orjson.dumps({"username": username, "password": password})
        status, _, body = self.send(
            "POST", "/api/auth/login", credentials, {"Content-Type": "application/json"}
        )
        assert status == 200, body
        self.tokens[role] = {"Authorization": "Bearer " + orjson.loads(body)["access_token"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("schema-fuzz") / "store",
        "auth.login_max_failures=100000",
        "auth.login_ip_max_failures=100000",
    )
    try:
        yield running
    finally:
        stop_quietly(running)


@pytest.fixture(scope="module")
def session(server: Server) -> Iterator[Session]:
    client = Session(server.url)
    register = orjson.dumps({"username": "schema-fuzzer", "password": "fuzz-pass-1"})
    client.send("POST", "/api/auth/register", register, {"Content-Type": "application/json"})
    client.login("device", "schema-fuzzer", "fuzz-pass-1")
    client.login("truck", "truck-1", TRUCK_PASSWORD)
    client.login("operator", "admin", ADMIN_PASSWORD)
    # A real order and delivery from the start, so paths by id can go deep from the
    # first example on, whatever bodies hypothesis happens to get accepted later.
    for role, path, line in (
        ("device", "/api/orders/preview", {"sku": "BRD-001", "quantity": 1}),
        ("truck", "/api/restocks", {"sku": "BRD-001", "quantity": 5, "unit_cost": "3.10"}),
    ):
        headers = client.tokens[role] | {"Content-Type": "application/json"}
        status, _, answer = client.send("POST", path, orjson.dumps({"items": [line]}), headers)
        assert status < 300, answer
        client.keep_ids(orjson.loads(answer))
    yield client
    client.conn.close()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, from a document built without a server."""
    from autogrocery.api.app import create_app
    from autogrocery.api.state import DOCUMENT
    from autogrocery.config import load_config

    app = create_app(load_config(env={}), None)  # type: ignore[arg-type]
    paths = orjson.loads(app[DOCUMENT].encoded())["paths"]
    return [(m, p) for p, item in paths.items() for m in item if (m, p) not in SKIP]


SKUS = ["BRD-001", "MEA-002", "PRO-003", "DAI-004", "PAR-005"]
noise = st.text(min_size=1, max_size=12)


def path_value(session: Session, name: str, pick: int, index: int, text: str) -> str:
    """Mostly an id of that name the store handed out (a SKU for `sku`), sometimes noise.
    Hypothesis draws `pick`, `index` and `text` with fixed bounds: the ids known so far
    are state outside it, so they are chosen here, not drawn."""
    known = SKUS if name == "sku" else session.ids.get(name, [])
    if pick == 0 or not known:
        return text
    return known[-1 - index % len(known)]


@st.composite
def requests(
    draw: st.DrawFn, session: Session, method: str, template: str
) -> tuple[str, str, bytes | None, dict[str, str]]:
    operation = session.contract.document["paths"][template][method]
    components = session.contract.components
    path = template
    query: dict[str, Any] = {}
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            pick, index, text = draw(st.integers(0, 3)), draw(st.integers(0, 49)), draw(noise)
            value = path_value(session, param["name"], pick, index, text)
            path = path.replace("{" + param["name"] + "}", quote(value, safe=""))
        elif param["in"] == "query" and draw(st.booleans()):
            query[param["name"]] = draw(from_schema(param["schema"], components))
    headers: dict[str, str] = {}
    roles = operation.get("x-roles")
    if roles is not None:
        headers |= session.tokens[draw(st.sampled_from(roles or ["device", "truck", "operator"]))]
    body = None
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        value = draw(from_schema(schema, components))
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            for line in value["items"]:  # real SKUs too, so some requests go deep
                if isinstance(line, dict) and draw(st.booleans()):
                    line["sku"] = draw(st.sampled_from(SKUS))
        body = orjson.dumps(value)
        headers["Content-Type"] = "application/json"
    target = path + ("?" + urlencode({k: str(v) for k, v in query.items()}) if query else "")
    return method.upper(), target, body, headers


_OPERATIONS = _operations()
# Each operation gets its own examples: drawn from all of them at once, hypothesis's
# bias toward its first choices left a few operations unsent in some runs.
EXAMPLES_EACH = 10


@pytest.mark.parametrize("operation", _OPERATIONS, ids=" ".join)
@settings(
    max_examples=EXAMPLES_EACH,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_requests_drawn_from_the_document_get_documented_answers(
    session: Session, operation: tuple[str, str], data: st.DataObject
) -> None:
    method, target, body, headers = data.draw(requests(session, *operation))
    status, media, answer = session.send(method, target, body, headers)
    assert status < 500, (method, target, body, answer)
    assert b"Traceback" not in answer
    session.contract.check(method, target, status, media, answer, session.headers)
    session.statuses.append((method, target.split("?")[0], status))
    if status < 300 and media == "application/json":
        session.keep_ids(orjson.loads(answer))


def test_books_balance_after_the_schema_fuzzing(server: Server, session: Session) -> None:
    covered = {template for _, template, _ in session.contract.checked}
    assert covered == {p for _, p in _OPERATIONS}  # every path was answered and checked
    succeeded = sum(1 for *_, status in session.statuses if status < 300)
    assert succeeded >= len(session.statuses) // 10  # and many requests went all the way
    by_id = [
        (method, path)
        for method, path, status in session.statuses
        if status < 300 and path.startswith(("/api/orders/ord_", "/api/restocks/rst_"))
    ]
    assert by_id, "no request on an order or restock by its id succeeded"
    _wait_until_nothing_is_in_flight(server)
    check_invariants(server.data_dir)
    # Idle while waiting, maybe longer than the store keeps an idle connection open
    # (api.header_timeout, 20 s): the next request goes on a new one.
    session.conn.close()
    status, _, body = session.send("GET", "/readyz")
    assert status == 200, body


def _wait_until_nothing_is_in_flight(server: Server, within: float = 30.0) -> None:
    """Until every confirmed order and restock is final and analytics has its row."""
    deadline = time.monotonic() + within
    db = server.data_dir / DB_NAME
    while True:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            busy = conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'PROCESSING'")
            finished = conn.execute(
                "SELECT COUNT(*) FROM orders WHERE status IN ('COMPLETED', 'FAILED')"
            )
            pending, done = busy.fetchone()[0], finished.fetchone()[0]
            rows = conn.execute("SELECT COUNT(*) FROM latencies").fetchone()[0]
        if pending == 0 and rows == done:
            return
        assert time.monotonic() < deadline, f"{pending} in flight, {rows}/{done} recorded"
        time.sleep(0.1)

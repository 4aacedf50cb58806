"""Webhooks: alerts POSTed to a real receiver on 127.0.0.1, signed, retried, in order,
one receiver unable to hold up another; the URLs refused; the operators' routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.conftest import Api, ApiFactory
from tests.waiting import eventually
from tests.webhook_receiver import Receiver, documented_verify

SKU = "DAI-001"
WEBHOOKS = "/api/ops/webhooks"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    got = await Receiver().start()
    yield got
    await got.stop()


async def make_webhook(
    api: Api, operator: dict[str, str], receiver: Receiver, name: str, **extra: Any
) -> dict[str, Any]:
    body = {"url": receiver.url(name), "events": ["alert.raised", "alert.cleared"], **extra}
    status, made, _ = await api.call("POST", WEBHOOKS, operator, json=body)
    assert status == 201, made
    receiver.secrets[name] = made["secret"]
    return dict(made)


async def set_min_level(api: Api, operator: dict[str, str], min_level: int) -> None:
    """Raise (a min_level above what is on hand) or clear SKU's low-stock alert."""
    path = f"/api/ops/products/{SKU}"
    status, body, _ = await api.call("PATCH", path, operator, json={"min_level": min_level})
    assert status == 200, body


async def deliveries(api: Api, operator: dict[str, str], webhook_id: str) -> list[Any]:
    status, body, _ = await api.call("GET", f"{WEBHOOKS}/{webhook_id}/deliveries", operator)
    assert status == 200, body
    return list(body["deliveries"])


def counted(metrics: bytes, outcome: str) -> float:
    line = f'autogrocery_webhook_deliveries_total{{outcome="{outcome}"}} '.encode()
    return float(next(row for row in metrics.splitlines() if row.startswith(line)).split()[1])


async def test_an_alert_reaches_the_receiver_signed_as_the_event_socket_carries_it(
    api: Api, receiver: Receiver
) -> None:
    operator = await api.operator()
    made = await make_webhook(api, operator, receiver, "bot", description="the shift chat")
    assert made["secret"].startswith("whsec_")
    assert made["events"] == [
        "alert.cleared",
        "alert.raised",
    ]
    await set_min_level(api, operator, 100_000)
    (raised,) = await receiver.wait("bot", 1)
    _, alerts, _ = await api.call("GET", "/api/ops/alerts", operator)
    assert raised.body["data"] == alerts["alerts"][0]  # the view the alerts list gives
    await set_min_level(api, operator, 0)
    raised, cleared = await receiver.wait("bot", 2)
    assert raised.verified
    assert cleared.verified
    assert raised.headers["X-Autogrocery-Event"] == raised.body["type"] == "alert.raised"
    assert cleared.body["type"] == "alert.cleared"
    data = raised.body["data"]
    assert (data["kind"], data["sku"], data["min_level"]) == ("low", SKU, 100_000)
    assert raised.headers["X-Autogrocery-Delivery"] != cleared.headers["X-Autogrocery-Delivery"]
    # A body changed on the way, or forged headers, do not verify (and do not raise).
    verify, secret, raw = receiver._verify, made["secret"], raised.raw
    assert not verify(secret, raised.headers, b'{"type":"alert.cleared"}')
    assert not verify(secret, raised.headers | {"X-Autogrocery-Signature": "sha256=é"}, raw)
    assert not verify(secret, raised.headers | {"X-Autogrocery-Timestamp": "²"}, raw)
    readme_verify = documented_verify("README.md")  # the README's shorter copy
    assert readme_verify(secret, raised.headers, raw)
    assert not readme_verify(secret, raised.headers, raw + b" ")
    assert not readme_verify(secret, raised.headers | {"X-Autogrocery-Signature": "sha256=é"}, raw)

    async def both_delivered() -> list[Any]:
        listed = await deliveries(api, operator, made["webhook_id"])
        return listed if [d["status"] for d in listed] == ["delivered"] * 2 else []

    listed = await eventually(both_delivered, within=10)
    assert [d["last_status"] for d in listed] == [200, 200]


async def test_a_receivers_500s_are_retried_with_the_same_delivery_id(
    api: Api, receiver: Receiver
) -> None:
    operator = await api.operator()
    receiver.scripts["flaky"] = [500, 503]
    made = await make_webhook(api, operator, receiver, "flaky")
    await set_min_level(api, operator, 100_000)
    tries = await receiver.wait("flaky", 3)
    assert len({got.headers["X-Autogrocery-Delivery"] for got in tries}) == 1
    assert all(got.verified for got in tries)
    assert len({got.headers["X-Autogrocery-Timestamp"] for got in tries}) >= 1

    async def settled() -> list[Any]:
        listed = await deliveries(api, operator, made["webhook_id"])
        return listed if listed[0]["status"] == "delivered" else []

    (delivery,) = await eventually(settled, within=10)
    assert [t["status_code"] for t in delivery["tries"]] == [500, 503, 200]
    assert delivery["tries"][0]["error"].startswith("HTTP 500")
    assert delivery["tries"][-1]["error"] is None
    assert (delivery["attempts"], delivery["last_status"], delivery["next_attempt_at"]) == (
        3,
        200,
        None,
    )
    _, metrics, _ = await api.call("GET", "/metrics")
    assert (counted(metrics, "delivered"), counted(metrics, "retried")) == (1, 2)


async def test_a_hanging_receiver_does_not_hold_up_another(
    make_api: ApiFactory, receiver: Receiver
) -> None:
    api = await make_api("notify.webhook_timeout=30")
    operator = await api.operator()
    receiver.scripts["stuck"] = ["hang"]
    await make_webhook(api, operator, receiver, "stuck")
    await make_webhook(api, operator, receiver, "fine")
    await set_min_level(api, operator, 100_000)
    await set_min_level(api, operator, 0)
    await receiver.wait("stuck", 1)
    fine = await receiver.wait("fine", 2)
    assert [got.body["type"] for got in fine] == ["alert.raised", "alert.cleared"]
    assert len(receiver.at("stuck")) == 1  # in order: its second waits behind the first


async def test_deliveries_are_given_up_on_after_the_retry_window_and_counted(
    make_api: ApiFactory, receiver: Receiver
) -> None:
    api = await make_api("notify.webhook_retry_for=1.5")
    operator = await api.operator()
    receiver.scripts["down"] = [500] * 100
    made = await make_webhook(api, operator, receiver, "down")
    for sku in ("DAI-001", "DAI-002", "BRD-001"):
        path = f"/api/ops/products/{sku}"
        assert (await api.call("PATCH", path, operator, json={"min_level": 100_000}))[0] == 200

    async def failed() -> dict[str, Any] | None:
        _, hook, _ = await api.call("GET", f"{WEBHOOKS}/{made['webhook_id']}", operator)
        return dict(hook) if hook["failed"] == 3 else None

    hook = await eventually(failed, within=15)
    assert hook["pending"] == 0
    first, *behind = reversed(await deliveries(api, operator, made["webhook_id"]))
    assert first["status"] == "failed"
    assert first["last_error"].startswith("HTTP 500")
    assert first["attempts"] >= 2
    # Those queued behind it were not each tried for the whole window in turn: once the
    # window had passed for them too, they failed at their first try (or with the first).
    assert [(d["status"], d["attempts"] <= 1) for d in behind] == [("failed", True)] * 2
    assert len(receiver.at("down")) == sum(d["attempts"] for d in [first, *behind])
    _, metrics, _ = await api.call("GET", "/metrics")
    assert counted(metrics, "failed") == 3


async def test_a_paused_webhook_queues_and_sends_in_order_when_resumed(
    api: Api, receiver: Receiver
) -> None:
    operator = await api.operator()
    made = await make_webhook(api, operator, receiver, "later")
    path = f"{WEBHOOKS}/{made['webhook_id']}"
    status, paused, _ = await api.call("PATCH", path, operator, json={"paused": True})
    assert status == 200
    assert paused["paused"]
    await set_min_level(api, operator, 100_000)
    await set_min_level(api, operator, 0)

    async def queued() -> bool:
        return bool((await api.call("GET", path, operator))[1]["pending"] == 2)

    await eventually(queued, within=10)
    assert receiver.at("later") == []
    assert (await api.call("PATCH", path, operator, json={"paused": False}))[0] == 200
    sent = await receiver.wait("later", 2)
    assert [got.body["type"] for got in sent] == ["alert.raised", "alert.cleared"]


async def test_urls_into_the_stores_network_are_refused_unless_allowed(
    make_api: ApiFactory,
) -> None:
    api = await make_api()
    operator = await api.operator()
    for url, says in (
        ("http://10.1.2.3/hook", "notify.allow_private_urls"),
        ("http://169.254.169.254/latest/meta-data", "private or reserved"),
        ("http://[fd00::1]/hook", "private or reserved"),
        ("http://0.0.0.0:80/hook", "not an address"),
        ("ftp://example.com/hook", "http:// or https://"),
        ("http://[64:ff9b::a00:1]/hook", "10.0.0.1 is in a private"),  # NAT64 to 10.0.0.1
        ("http://[2002:a9fe:a9fe::1]/hook", "169.254.169.254"),  # 6to4
        ("http://a..b/hook", "valid host name"),
    ):
        status, problem, _ = await api.call(
            "POST", WEBHOOKS, operator, json={"url": url, "events": ["alert.raised"]}
        )
        assert status == 400, (url, problem)
        assert says in problem["detail"], problem
        assert problem["errors"][0]["field"] == "url"
    assert (await api.call("GET", WEBHOOKS, operator))[1]["webhooks"] == []
    local = {"url": "http://localhost:9/hook", "events": ["alert.raised"]}
    assert (await api.call("POST", WEBHOOKS, operator, json=local))[0] == 201
    allowed = await make_api("notify.allow_private_urls=true")
    status, _, _ = await allowed.call(
        "POST",
        WEBHOOKS,
        await allowed.operator(),
        json={"url": "http://10.1.2.3/hook", "events": ["alert.raised"]},
    )
    assert status == 201


async def test_operators_list_change_and_delete_webhooks(api: Api, receiver: Receiver) -> None:
    operator = await api.operator()
    made = await make_webhook(api, operator, receiver, "one")
    path = f"{WEBHOOKS}/{made['webhook_id']}"
    _, listed, _ = await api.call("GET", WEBHOOKS, operator)
    assert [hook["webhook_id"] for hook in listed["webhooks"]] == [made["webhook_id"]]
    assert "secret" not in listed["webhooks"][0]
    status, changed, _ = await api.call(
        "PATCH", path, operator, json={"events": ["alert.cleared"], "description": "clears"}
    )
    assert status == 200
    assert (changed["events"], changed["description"]) == (
        ["alert.cleared"],
        "clears",
    )
    assert (await api.call("PATCH", path, operator, json={}))[0] == 400
    bad = {"events": ["order.updated"]}
    assert (await api.call("PATCH", path, operator, json=bad))[0] == 400
    await set_min_level(api, operator, 100_000)  # raised: not what it wants now
    await set_min_level(api, operator, 0)
    (cleared,) = await receiver.wait("one", 1)
    assert cleared.body["type"] == "alert.cleared"
    # A test event for this webhook alone, then a delivery sent again with its own id.
    status, pinged, _ = await api.call("POST", f"{path}/ping", operator)
    assert status == 202
    (cleared, ping) = await receiver.wait("one", 2)
    assert (ping.body["type"], ping.body["data"]["webhook_id"]) == (
        "webhook.ping",
        made["webhook_id"],
    )
    assert ping.verified
    assert ping.headers["X-Autogrocery-Delivery"] == pinged["delivery_id"]
    again = f"{path}/deliveries/{pinged['delivery_id']}/redeliver"

    async def redelivered() -> bool:  # 409 until the store has recorded it delivered
        return (await api.call("POST", again, operator))[0] == 202

    await eventually(redelivered, within=10)
    (*_, repeat) = await receiver.wait("one", 3)
    assert repeat.headers["X-Autogrocery-Delivery"] == pinged["delivery_id"]
    unknown = f"{path}/deliveries/dlv_nope/redeliver"
    assert (await api.call("POST", unknown, operator))[0] == 404
    assert (await api.call("POST", f"{WEBHOOKS}/whk_nope/ping", operator))[0] == 404
    device = await api.device()
    assert (await api.call("GET", WEBHOOKS, device))[0] == 403
    assert (await api.call("DELETE", path, operator))[0] == 204
    assert (await api.call("DELETE", path, operator))[0] == 404
    assert (await api.call("GET", f"{path}/deliveries", operator))[0] == 404

"""CurveZMQ refusals over real ZeroMQ sockets on 127.0.0.1: the store logs each refused
peer once (address and key fingerprint) and counts it; a client says why the store will
not complete its handshake."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.auth

from autogrocery.transports.curve import client_keys, create_keys, server_keys
from autogrocery.transports.fleet import Fleet
from autogrocery.transports.handshake import fingerprint
from autogrocery.transports.heartbeat import Heartbeat
from autogrocery.transports.zmq_metrics import MetricsFeed, ZmqMetricsChannel
from autogrocery.transports.zmq_robot_client import RobotLink
from autogrocery.transports.zmq_robots import ZmqRobotHub
from autogrocery.transports.zmqio import CurveClient, ZmqOptions, as_client
from tests.waiting import until

pytestmark = pytest.mark.timeout(30)

HEARTBEAT = Heartbeat(0.2, 3)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A store's keys: `good` is authorized, `rogue` has a pair the store does not admit,
    and `stranger` holds another store's public key."""
    made = tmp_path / "keys"
    create_keys(made, ["good", "rogue"])
    (made / "authorized" / "rogue.key").unlink()
    other = tmp_path / "other-store"
    create_keys(other, ["stranger"])
    return made


@pytest.fixture
def hub(keys: Path) -> Iterator[ZmqRobotHub]:
    options = ZmqOptions(heartbeat=HEARTBEAT, curve=server_keys(keys))
    store = ZmqRobotHub(Fleet(), "tcp://127.0.0.1:*", options, aisles=["bread"])
    store.start(lambda reports: None)
    yield store
    store.close()


class Peers:
    """Raw DEALER sockets (closed at teardown). Connecting is enough for the handshake;
    only a peer the store admits says something (a heartbeat, answered with a reset).

    A peer the store refuses must not send: once libzmq has the refusal it drops the
    connection's pipe for good, and a blocking send on a DEALER with no pipe waits
    forever (the race the handshake wins when the sender is slow to get there)."""

    def __init__(self) -> None:
        self.ctx: zmq.Context[Any] = zmq.Context()
        self.socks: list[zmq.Socket[Any]] = []

    def connect(
        self, endpoint: str, curve: CurveClient | None, *, hello: bool = False
    ) -> zmq.Socket[Any]:
        sock = self.ctx.socket(zmq.DEALER)
        self.socks.append(sock)
        as_client(sock, curve)
        sock.connect(endpoint)
        if hello:
            sock.send(b'{"kind": "heartbeat", "v": 1}')
        return sock

    def close(self) -> None:
        for sock in self.socks:
            sock.close(linger=0)
        self.ctx.term()


@pytest.fixture
def peers() -> Iterator[Peers]:
    made = Peers()
    yield made
    made.close()


def bundle(keys: Path, name: str) -> CurveClient:
    return client_keys(keys / "clients" / name)


def messages(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


def test_a_refused_key_is_logged_once_with_its_address_and_fingerprint_and_counted(
    hub: ZmqRobotHub, keys: Path, peers: Peers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rogue = bundle(keys, "rogue")
    for n in range(1, 4):  # three connections from the same peer: three refusals, one line
        peers.connect(hub.endpoint, rogue)
        until(lambda n=n: hub.stats()["refused_key"] == n, within=10)
    good = peers.connect(hub.endpoint, bundle(keys, "good"), hello=True)
    assert good.poll(5000), "the authorized client got no answer"
    lines = messages(caplog, logging.WARNING, "refused a CurveZMQ client")
    assert len(lines) == 1, lines
    assert "robots channel" in lines[0]
    assert "from 127.0.0.1" in lines[0]
    assert fingerprint(rogue.public) in lines[0]
    assert fingerprint(bundle(keys, "good").public) not in caplog.text
    assert hub.stats()["refused_key"] == 3
    assert hub.channel_stats()["robots"]["refused_key"] == 3


def test_a_refused_handshake_before_the_key_check_is_counted_and_logged(
    keys: Path, peers: Peers, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO)
    options = ZmqOptions(heartbeat=HEARTBEAT, curve=server_keys(keys))
    channel = ZmqMetricsChannel("tcp://127.0.0.1:*", options, NoReplay)
    try:
        peers.connect(channel.endpoint, None)  # no CurveZMQ at all
        until(lambda: channel.stats()["refused_handshake"] >= 1, within=10)
        first = channel.stats()["refused_handshake"]
        peers.connect(channel.endpoint, client_keys(tmp_path / "other-store/clients/stranger"))
        until(lambda: channel.stats()["refused_handshake"] > first, within=10)
        lines = messages(caplog, logging.WARNING, "handshake failed")
        assert len(lines) == 1, lines  # at most once a minute
        assert "metrics channel" in lines[0]
        assert "CurveZMQ" in lines[0]
        assert channel.stats()["refused_key"] == 0
    finally:
        channel.close()


class NoReplay:
    """An empty outbox (nobody in these tests gets as far as subscribing)."""

    def after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        pass


def refused(hub: ZmqRobotHub) -> int:
    stats = hub.stats()
    return stats["refused_key"] + stats["refused_handshake"]


def robot_link(endpoint: str, curve: CurveClient | None) -> RobotLink:
    link = RobotLink(
        endpoint, [("r1", "bread"), ("r2", "bread")], "test", lambda *_: None,
        lambda *_: None, heartbeat=HEARTBEAT, curve=curve,
    )  # fmt: skip
    link.start()
    return link


@pytest.mark.parametrize(
    ("client", "said"),
    [
        ("rogue", "refused our CurveZMQ key"),
        (None, "requires CurveZMQ: pass --keys DIR"),
        ("stranger", "is not this store's public key"),
    ],
)
def test_a_robot_says_why_the_store_refuses_its_handshake(
    hub: ZmqRobotHub,
    keys: Path,
    tmp_path: Path,
    client: str | None,
    said: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    curve = (
        client_keys(tmp_path / "other-store/clients/stranger")
        if client == "stranger"
        else bundle(keys, client)
        if client
        else None
    )
    link = robot_link(hub.endpoint, curve)
    try:
        until(lambda: messages(caplog, logging.ERROR, said), within=10)
        until(lambda: refused(hub) >= 6, within=10)  # both robots reconnect: still one line in all
    finally:
        link.close()
    lines = messages(caplog, logging.ERROR, "the store at")
    assert len(lines) == 1, lines
    assert said in lines[0]
    if curve is not None and client == "rogue":
        assert fingerprint(curve.public) in lines[0]
        assert str(keys / "clients" / "rogue") in lines[0]
    assert "zmq.curve" not in lines[0] or client == "stranger"
    assert not messages(caplog, logging.WARNING, "down or unreachable")
    assert link.registered() == []


def test_analytics_told_to_pass_keys_and_a_good_client_is_not_warned(
    hub: ZmqRobotHub, keys: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    feed = MetricsFeed(hub.endpoint, lambda metrics: None, heartbeat=HEARTBEAT)
    feed.start(0)
    try:
        until(
            lambda: messages(caplog, logging.ERROR, "requires CurveZMQ: pass --keys DIR"), within=10
        )
    finally:
        feed.stop_loop()
    caplog.clear()
    link = robot_link(hub.endpoint, bundle(keys, "good"))
    try:
        until(lambda: link.registered() == ["r1", "r2"], within=10)
    finally:
        link.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_the_fingerprint_is_the_same_for_a_key_and_its_z85_text(keys: Path) -> None:
    public, _ = zmq.auth.load_certificate(keys / "clients" / "good" / "client.key")
    raw = bundle(keys, "good").public
    assert fingerprint(public) == fingerprint(raw)
    assert fingerprint(public).startswith("SHA256:")
    assert fingerprint(public) != fingerprint(bundle(keys, "rogue").public)

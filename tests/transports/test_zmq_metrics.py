"""The metrics channel over real ZeroMQ sockets: replay from a sequence number, then live."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.models import OrderKind
from autogrocery.transports.codec import frame
from autogrocery.transports.heartbeat import Heartbeat
from autogrocery.transports.zmq_metrics import MetricsFeed, ZmqMetricsChannel
from autogrocery.transports.zmqio import ZmqOptions
from tests.waiting import until

pytestmark = pytest.mark.timeout(30)

OPTIONS = ZmqOptions(heartbeat=Heartbeat(0.2, 3))


def metric(seq: int) -> dict[str, Any]:
    return Metric(seq, OrderKind.CUSTOMER, f"ord_{seq}", "COMPLETED", 2, 1.0, 1.5).to_wire()


class Outbox:
    """The durable outbox stand-in: rows are "committed" here before they are published."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.reads = 0
        self.closed = False

    def commit(self, seq: int) -> list[Metric]:
        """Store the metric; what the store then publishes (a batch of one)."""
        row = metric(seq)
        with self.lock:
            self.rows.append(row)
        return [Metric.from_wire(row)]

    def after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        self.reads += 1
        with self.lock:
            return [row for row in self.rows if row["seq"] > seq][:limit]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def channel(outbox: Outbox) -> Iterator[ZmqMetricsChannel]:
    store = ZmqMetricsChannel("tcp://127.0.0.1:*", OPTIONS, lambda: outbox)
    yield store
    store.close()


def feed(endpoint: str, after: int, got: list[int]) -> MetricsFeed:
    client = MetricsFeed(
        endpoint, lambda ms: got.extend(m.seq for m in ms), heartbeat=Heartbeat(0.2, 3)
    )
    client.start(after)
    return client


def test_a_subscriber_gets_the_outbox_from_its_seq_then_live_ones_without_gaps(
    channel: ZmqMetricsChannel, outbox: Outbox
) -> None:
    local: list[int] = []
    channel.subscribe(lambda metrics: local.extend(m.seq for m in metrics))
    for seq in range(1, 1201):  # more than one replay batch, published before anyone listens
        channel.publish(outbox.commit(seq))
    got: list[int] = []
    client = feed(channel.endpoint, 100, got)
    try:
        for seq in range(1201, 1501):  # published while the replay runs
            channel.publish(outbox.commit(seq))
        until(lambda: got and got[-1] == 1500, within=10)
        assert got == list(range(101, 1501))
        assert local == list(range(1, 1501))
        assert channel.stats()["replayed"] >= 1000
    finally:
        client.stop_loop()


def test_a_subscriber_that_comes_back_resumes_where_it_stopped(
    channel: ZmqMetricsChannel, outbox: Outbox
) -> None:
    got: list[int] = []
    client = feed(channel.endpoint, 0, got)
    until(lambda: client.subscribed, within=10)
    for seq in range(1, 51):
        channel.publish(outbox.commit(seq))
    until(lambda: len(got) == 50, within=10)
    client.stop_loop()  # says bye
    until(lambda: channel.stats()["subscribers"] == 0, within=10)
    for seq in range(51, 81):  # missed while away
        channel.publish(outbox.commit(seq))
    again = feed(channel.endpoint, got[-1], got)
    try:
        until(lambda: len(got) == 80, within=10)
        for seq in range(81, 91):
            channel.publish(outbox.commit(seq))
        until(lambda: len(got) == 90, within=10)
        assert got == list(range(1, 91))
    finally:
        again.stop_loop()


def test_garbage_on_the_metrics_channel_is_counted_and_harmless(
    channel: ZmqMetricsChannel, outbox: Outbox
) -> None:
    ctx: zmq.Context[Any] = zmq.Context()
    junk = ctx.socket(zmq.DEALER)
    try:
        junk.connect(channel.endpoint)
        for data in (
            b"junk",
            b"{}",
            b'{"kind":"metric","v":1}',
            frame("subscribe", **{"from": -1}),
        ):
            junk.send(data)
        junk.send_multipart([b"a", b"b"])
        until(lambda: channel.bad_frames == 5, within=10)
        got: list[int] = []
        client = feed(channel.endpoint, 0, got)
        try:
            channel.publish(outbox.commit(1))
            until(lambda: got == [1], within=10)
        finally:
            client.stop_loop()
    finally:
        junk.close(linger=0)
        ctx.term()

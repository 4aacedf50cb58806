"""The metrics channel over ZeroMQ: the store binds a ROUTER, analytics processes
connect a DEALER and subscribe "from seq N".

    analytics -> store: subscribe {from} | heartbeat | bye
    store -> analytics: welcome {heartbeat, misses} | heartbeat | metric {seq, ...} | reset

The store's outbox (SQLite) numbers every metric durably before it is published, so a
subscriber is first replayed the outbox after its last sequence number (read on this
channel's own thread, never on the event loop), then gets live metrics. A subscriber
whose queue is full falls back to the replay, so nothing is lost and nothing is sent
twice in one subscription. In-process subscribers (the store's own analytics) get every
metric directly, as with the memory channel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Never, Protocol

import zmq

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.wire import WireError
from autogrocery.transports.codec import (
    TO_ANALYTICS,
    TO_METRICS,
    Wire,
    encode,
    field,
    frame,
)
from autogrocery.transports.dealer import DealerLoop
from autogrocery.transports.heartbeat import Heartbeat, Pulse
from autogrocery.transports.memory import MemoryMetricsChannel
from autogrocery.transports.router import RouterLoop
from autogrocery.transports.zmqio import (
    BadFrames,
    CurveClient,
    ZmqOptions,
    drain_router,
    require_safe,
    send,
)

log = logging.getLogger(__name__)

REPLAY_BATCH = 500
FULL_BACKOFF = 0.05


class Replay(Protocol):
    def after(self, seq: int, limit: int) -> list[Wire]:
        """Up to `limit` metrics with a sequence number above `seq`, in order."""

    def close(self) -> None: ...


class ZmqMetricsChannel(MemoryMetricsChannel):
    def __init__(self, endpoint: str, options: ZmqOptions, replay: Callable[[], Replay]) -> None:
        super().__init__()
        require_safe(endpoint, options.curve is not None, options.insecure)
        self._router = _MetricsRouter(endpoint, options, replay)
        self.endpoint = self._router.endpoint
        self._router.start_loop()

    def publish(self, metrics: list[Metric]) -> None:
        super().publish(metrics)
        self._router.post(metrics)

    @property
    def bad_frames(self) -> int:
        return self._router.bad.count

    def stats(self) -> dict[str, int]:
        return self._router.stats()

    def close(self) -> None:
        super().close()
        self._router.stop_loop()


@dataclass(slots=True)
class _Subscriber:
    last_sent: int
    pulse: Pulse
    live: bool = False
    retry_at: float = 0.0


class _MetricsRouter(RouterLoop[list[Metric]]):
    def __init__(self, endpoint: str, options: ZmqOptions, replay: Callable[[], Replay]) -> None:
        self.options = options
        self.open_replay = replay
        self.replay: Replay | None = None
        self.bad = BadFrames("metrics")
        self.counts = {"frames_in": 0, "frames_out": 0, "replayed": 0, "send_full": 0}
        self.subs: dict[bytes, _Subscriber] = {}
        self.beat = Pulse(options.heartbeat)
        super().__init__("zmq-metrics", "metrics", "metrics channel", endpoint, options.curve)

    def stats(self) -> dict[str, int]:
        subscribers = len(self.subs)
        return {
            "bad_frames": self.bad.count,
            "subscribers": subscribers,
            **self.counts,
            **self.refused(),
        }

    def _readable(self) -> None:
        drain_router(self.sock, TO_METRICS, self._on_message, self.bad, self.counts)

    def _on_message(self, rid: bytes, msg: Wire) -> None:
        kind = msg["kind"]
        if kind == "subscribe":
            after = field(msg, "from", int)
            if after < 0:
                raise WireError("subscribe: 'from' must be >= 0")
            self.subs[rid] = _Subscriber(after, Pulse(self.options.heartbeat))
            log.info("analytics %s subscribed from seq %d", rid.hex(), after)
            self._send(rid, frame("welcome", **self.options.heartbeat.wire()))
            return
        sub = self.subs.get(rid)
        if sub is None:
            if kind != "bye":
                self._send(rid, frame("reset"))
            return
        sub.pulse.hear()
        if kind == "bye":
            del self.subs[rid]

    def _handle(self, metrics: list[Metric]) -> None:
        """Live metrics: to every subscriber that has caught up with the outbox."""
        if not self.subs:
            return
        for metric in metrics:
            seq = metric.seq
            data = encode(metric.to_wire())
            for rid, sub in list(self.subs.items()):
                if not sub.live or seq <= sub.last_sent:
                    continue
                if self._send(rid, data):
                    sub.last_sent = seq
                elif rid in self.subs:
                    sub.live, sub.retry_at = False, time.monotonic() + FULL_BACKOFF

    def _catch_up(self, rid: bytes, sub: _Subscriber, now: float) -> bool:
        """Send the next batch of the outbox; True if there is more to send."""
        if self.replay is None:
            self.replay = self.open_replay()
        rows = self.replay.after(sub.last_sent, REPLAY_BATCH)
        for row in rows:
            if not self._send(rid, encode(row)):
                sub.retry_at = now + FULL_BACKOFF
                return False
            sub.last_sent = field(row, "seq", int)
            self.counts["replayed"] += 1
        sub.live = len(rows) < REPLAY_BATCH
        return not sub.live

    def _send(self, rid: bytes, data: bytes) -> bool:
        try:
            if send(self.sock, [rid, data]):
                self.counts["frames_out"] += 1
                return True
            self.counts["send_full"] += 1
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            if self.subs.pop(rid, None) is not None:
                log.info("analytics %s is unreachable", rid.hex())
        return False

    def _tick(self, now: float) -> float:
        if self.beat.beat_due(now):
            heartbeat = frame("heartbeat")
            for rid in list(self.subs):
                self._send(rid, heartbeat)
        wait = self.beat.until_next(now)
        for rid, sub in list(self.subs.items()):
            if sub.pulse.silent(now):
                log.info("analytics %s went silent; dropped its subscription", rid.hex())
                del self.subs[rid]
            elif not sub.live:
                if sub.retry_at > now:
                    wait = min(wait, sub.retry_at - now)
                elif self._catch_up(rid, sub, now):
                    wait = 0.0
        return wait

    def _close(self) -> None:
        super()._close()
        if self.replay is not None:
            self.replay.close()


class MetricsFeed(DealerLoop[Never]):  # nothing is posted to it
    """A remote analytics process's side: metrics after the sequence number given to
    `start` go to `on_metrics`, those read together in one call. The constructor checks
    the endpoint and keys and touches nothing else, so a refusal comes before the caller
    opens its CSV."""

    def __init__(
        self,
        endpoint: str,
        on_metrics: Callable[[list[Metric]], None],
        *,
        heartbeat: Heartbeat | None = None,
        curve: CurveClient | None = None,
        insecure: bool = False,
    ) -> None:
        super().__init__(
            "zmq-metrics-feed",
            endpoint,
            who="analytics",
            channel="metrics",
            heartbeat=heartbeat,
            curve=curve,
            insecure=insecure,
        )
        self.last = 0
        self.on_metrics = on_metrics
        self._arrived: list[Metric] = []
        self.pulse = Pulse(self.default_heartbeat)
        self.sock: zmq.Socket[bytes] | None = None
        self.monitor: zmq.Socket[bytes] | None = None  # the handshake events of `sock`
        self.subscribed = False
        self.warned = False
        self.subscriptions = 0

    def start(self, after: int) -> None:
        """Subscribe from the metric after `after` (the last one the caller holds)."""
        self.last = after
        self.start_loop()

    def _setup(self) -> None:
        self._connect()

    def _connect(self) -> None:
        self._disconnect(linger=0)
        sock, self.monitor = self.dial(self._readable)
        self.sock = sock
        self.subscribed = False
        self.pulse = Pulse(self.default_heartbeat)
        self.pulse.next_beat = time.monotonic() + self.default_heartbeat.timeout
        send(sock, [frame("subscribe", **{"from": self.last})])

    def _readable(self) -> None:
        try:
            self._read()
        finally:
            if self._arrived:
                arrived, self._arrived = self._arrived, []
                self.on_metrics(arrived)

    def _read(self) -> None:
        if self.sock is not None:
            self.drain(self.sock, lambda: self.sock, TO_ANALYTICS, self._on_message)

    def _on_message(self, msg: Wire) -> None:
        self.pulse.hear()
        kind = msg["kind"]
        if kind == "metric":
            metric = Metric.from_wire(msg)
            if metric.seq > self.last:
                self._arrived.append(metric)
                self.last = metric.seq
        elif kind == "welcome":
            self.pulse.heartbeat = Heartbeat.from_wire(msg, self.default_heartbeat)
            self.pulse.next_beat = time.monotonic()
            if not self.subscribed:
                self.subscriptions += 1
                log.info("subscribed to %s from seq %d", self.endpoint, self.last)
            self.subscribed, self.warned = True, False
        elif kind == "reset":
            log.info("the store does not know this subscription; subscribing again")
            self._connect()

    def _tick(self, now: float) -> float:
        if self.pulse.silent(now):
            # once an outage, not every retry; a failing handshake has said why itself
            if (self.subscribed or not self.warned) and self.handshakes.problem is None:
                log.warning(
                    "no word from the store at %s for %.1fs (down or unreachable); reconnecting",
                    self.endpoint,
                    self.pulse.heartbeat.timeout,
                )
            self.warned = True
            self._connect()
        elif self.subscribed and self.pulse.beat_due(now) and self.sock is not None:
            send(self.sock, [frame("heartbeat")])
        return min(self.pulse.until_next(now), self.pulse.heartbeat.interval)

    def _disconnect(self, linger: int | None = None) -> None:
        self.hang_up(self.sock, self.monitor, linger)
        self.sock = self.monitor = None

    def _close(self) -> None:
        if self.sock is not None and self.subscribed:
            send(self.sock, [frame("bye")])
        self._disconnect()  # the socket's linger lets the bye go out

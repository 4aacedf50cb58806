"""CurveZMQ handshakes seen from both ends, so that a refusal is never silent.

The store: pyzmq's ZAP authenticator admits the public keys in `keys/authorized`; a
peer whose key is not there is logged once at WARNING (its address and key
fingerprint) and counted. A socket monitor counts the handshakes that fail before a
key is checked at all (a client without CurveZMQ, or one holding another store's public
key); libzmq's monitor names no peer address for those, so they are logged at most
once a minute.

A client: a socket monitor on each of its sockets says, once per change, why the store
will not talk to it (the store refused its key, the store wants CurveZMQ, ...) instead
of leaving it to guess from the silence.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
import time
from typing import TypedDict

import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85
from zmq.utils.monitor import recv_monitor_message

from autogrocery.transports.zmqio import CurveClient, CurveServer

log = logging.getLogger(__name__)

MAX_LOGGED = 10_000  # distinct refused peers remembered (so each is logged once)
QUIET = 60.0  # seconds between log lines about handshakes that fail before the key check
NO_DETAIL_LIMIT = 3  # failed handshakes in a row without a cause before a client says so

FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)
PROTOCOL = zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
CAUSES: dict[int, str] = {
    zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: "it uses no CurveZMQ (started without --keys?)",
    zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: "it holds another store's public key",
}
_MONITORS = itertools.count(1)
KEY_CAUSE = "key"  # the key is not in keys/authorized
HANDSHAKE_CAUSE = "handshake"  # no CurveZMQ, or another store's public key


class MonitorEvent(TypedDict):
    """A socket monitor's event, as pyzmq's `recv_monitor_message` decodes it."""

    event: int
    value: int
    endpoint: bytes


def fingerprint(public_key: bytes) -> str:
    """A short, stable name for a CurveZMQ public key (raw 32 bytes or its Z85 text)."""
    raw = z85.decode(public_key) if len(public_key) == 40 else public_key
    return "SHA256:" + hashlib.sha256(raw).hexdigest()[:16]


def public_text(public_key: bytes) -> str:
    """The key as `autogrocery keys` writes it into a `.key` file (Z85)."""
    return (public_key if len(public_key) == 40 else z85.encode(public_key)).decode("ascii")


# --- the store -----------------------------------------------------------------------


class Refusals:
    """The peers one channel refused: counted by cause, each key-refused peer logged
    once. Written from the authenticator's thread and the channel's I/O thread."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._lock = threading.Lock()
        self._counts = {KEY_CAUSE: 0, HANDSHAKE_CAUSE: 0}
        self._logged: set[tuple[str, bytes]] = set()
        self._quiet_until = 0.0

    def key_refused(self, address: str, public_key: bytes) -> None:
        with self._lock:
            self._counts[KEY_CAUSE] += 1
            peer = (address, public_key)
            if peer in self._logged:
                return
            if len(self._logged) >= MAX_LOGGED:
                self._logged.clear()
            self._logged.add(peer)
        log.warning(
            "%s channel: refused a CurveZMQ client from %s with key %s (public key %s): it "
            "is not in the store's authorized keys (further refusals of it are only counted)",
            self.channel,
            address or "an unknown address",
            fingerprint(public_key),
            public_text(public_key),
        )

    def handshake_failed(self, event: MonitorEvent) -> None:
        """A monitor event of the channel's socket: a handshake that failed before the
        key check (an AUTH failure is the key check, already counted by `key_refused`)."""
        now = time.monotonic()
        with self._lock:
            self._counts[HANDSHAKE_CAUSE] += 1
            if self._quiet_until > now:
                return
            self._quiet_until = now + QUIET
        # Which end notices a mismatch first is a race, so the cause is not always known.
        cause = CAUSES.get(event["value"], "") if event["event"] == PROTOCOL else ""
        log.warning(
            "%s channel: refused a client whose CurveZMQ handshake failed before its key "
            "could be checked: %s (such refusals are counted; this is logged at most once "
            "a minute)",
            self.channel,
            cause or "it uses no CurveZMQ (started without --keys?) or another store's public key",
        )

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {f"refused_{cause}": count for cause, count in self._counts.items()}


class _Authenticator(ThreadAuthenticator):
    """pyzmq's ZAP handler: admits the given keys, and tells `Refusals` about every
    other key together with the peer's address."""

    def __init__(
        self, ctx: zmq.SyncContext, authorized: frozenset[bytes], refusals: Refusals
    ) -> None:
        super().__init__(ctx, log=logging.getLogger("autogrocery.transports.zap"))
        self.keys = authorized
        self.refusals = refusals
        self._address = ""

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        # ZAP requests are handled one at a time on the authenticator's thread, so the
        # address is that of the request `callback` is about to judge.
        self._address = msg[3].decode("utf-8", "replace") if len(msg) > 3 else ""
        await super().handle_zap_message(msg)

    def callback(self, domain: str, public_key: bytes) -> bool:
        """The credentials provider of `configure_curve_callback` (`public_key`: Z85)."""
        if public_key in self.keys:
            return True
        self.refusals.key_refused(self._address, public_key)
        return False


class CurveGate:
    """The store's side of CurveZMQ for one channel: the ZAP handler of the channel's
    context, and a monitor of its socket that the channel's I/O loop reads."""

    def __init__(self, channel: str, ctx: zmq.SyncContext, curve: CurveServer) -> None:
        self.refusals = Refusals(channel)
        self.auth = _Authenticator(ctx, curve.authorized, self.refusals)
        self.auth.start()
        self.auth.configure_curve_callback("*", credentials_provider=self.auth)
        self.monitor: zmq.Socket[bytes] | None = None
        self._closed = False

    def watch(self, sock: zmq.Socket[bytes]) -> zmq.Socket[bytes]:
        """Monitor `sock`'s failed handshakes; the caller polls the returned socket."""
        self.monitor = monitor(sock, PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return self.monitor

    def readable(self) -> None:
        for event in drain_monitor(self.monitor):
            self.refusals.handshake_failed(event)

    def stats(self) -> dict[str, int]:
        return self.refusals.stats()

    def close(self, sock: zmq.Socket[bytes]) -> None:
        """Before `sock` closes (on the loop thread)."""
        if self._closed:
            return
        self._closed = True
        if self.monitor is not None:
            sock.disable_monitor()
            self.monitor.close(linger=0)
            self.monitor = None
        self.auth.stop()


def server_gate(channel: str, ctx: zmq.SyncContext, curve: CurveServer | None) -> CurveGate | None:
    return CurveGate(channel, ctx, curve) if curve is not None else None


# --- a client ------------------------------------------------------------------------


class HandshakeWatch:
    """Reads the monitor events of a client's sockets and says, once per change, why
    the store will not complete a handshake. `problem` is the latest such reason, or
    None once a handshake succeeds."""

    EVENTS = FAILED | zmq.EVENT_HANDSHAKE_SUCCEEDED

    def __init__(self, who: str, endpoint: str, curve: CurveClient | None) -> None:
        self.who = who
        self.endpoint = endpoint
        self.curve = curve
        self.problem: str | None = None
        self._unexplained = 0

    def watch(self, sock: zmq.Socket[bytes]) -> zmq.Socket[bytes]:
        """Monitor `sock` (before it connects); the caller polls the returned socket
        and calls `readable` with it."""
        return monitor(sock, self.EVENTS)

    def readable(self, monitor: zmq.Socket[bytes]) -> None:
        for event in drain_monitor(monitor):
            self.on_event(event["event"], event["value"])

    def on_event(self, event: int, value: int) -> None:
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            if self.problem is not None:
                log.info("%s: the CurveZMQ handshake with %s succeeds now", self.who, self.endpoint)
            self.problem, self._unexplained = None, 0
            return
        problem = self._explain(event, value)
        if problem is None or problem == self.problem:
            return
        self.problem = problem
        log.error("%s: %s", self.who, problem)

    def _explain(self, event: int, value: int) -> str | None:
        store = f"the store at {self.endpoint}"
        if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH and self.curve is not None:
            return (
                f"{store} refused our CurveZMQ key {fingerprint(self.curve.public)} (public "
                f"key {public_text(self.curve.public)}, from {self.curve.bundle}): it is not "
                "among the store's authorized keys; add it to the store's keys/authorized "
                "and restart the store"
            )
        mismatch = (
            event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            and value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
        )
        if not mismatch:
            self._unexplained += 1
            if self._unexplained < NO_DETAIL_LIMIT:
                return None  # one broken handshake is a blip; a run of them is a cause
        if self.curve is None:
            return (
                f"{store} requires CurveZMQ: pass --keys DIR (this client's bundle, made by "
                "`autogrocery keys` on the store's host)"
            )
        if mismatch:
            return (
                f"{store} does not use CurveZMQ: run without --keys, or turn zmq.curve on "
                "in the store"
            )
        return (
            f"the CurveZMQ handshake with {store} keeps failing: the store key in "
            f"{self.curve.bundle} is not this store's public key (a bundle from another "
            "store?)"
        )


def monitor(sock: zmq.Socket[bytes], events: int) -> zmq.Socket[bytes]:
    """A PAIR socket that receives `sock`'s `events`. Each monitor gets an address of its
    own: pyzmq's default names it after the socket's file descriptor, which a socket
    opened just after another closed may reuse while the old address is still bound."""
    return sock.get_monitor_socket(events, f"inproc://autogrocery-monitor-{next(_MONITORS)}")


def drain_monitor(monitor: zmq.Socket[bytes] | None) -> list[MonitorEvent]:
    events: list[MonitorEvent] = []
    if monitor is None:
        return events
    while True:
        try:
            events.append(recv_monitor_message(monitor, zmq.NOBLOCK))
        except zmq.Again:
            return events

"""ZeroMQ plumbing shared by the store's hubs and the remote clients.

ZeroMQ sockets are not thread-safe, so every socket belongs to exactly one `IoLoop`
thread. Other threads hand it work with `post()` (a queue plus a socketpair waker that
the loop polls next to its sockets). Every send is non-blocking; every socket has a
linger and a maximum message size, and is closed before its context is terminated.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, ParamSpec, TypeVar
from urllib.parse import urlsplit

import zmq

from autogrocery.domain.messages.wire import WireError
from autogrocery.transports.codec import MAX_FRAME, Wire, decode
from autogrocery.transports.heartbeat import Heartbeat

log = logging.getLogger(__name__)

Item = TypeVar("Item")  # what other threads `post` to an IoLoop
P = ParamSpec("P")
R = TypeVar("R")

LINGER_MS = 200
SEND_HWM = 10_000
MAX_BATCH = 256  # frames read from one socket before the loop looks at its other work


class TransportError(RuntimeError):
    """A transport cannot start (refused endpoint, address in use, missing keys)."""


@dataclass(frozen=True, slots=True)
class CurveServer:
    public: bytes
    secret: bytes
    authorized: frozenset[bytes]  # the public keys (Z85) that may connect


@dataclass(frozen=True, slots=True)
class CurveClient:
    public: bytes
    secret: bytes
    server: bytes  # the store's public key
    bundle: str = ""  # where the keys were read from, to name in messages


@dataclass(frozen=True, slots=True)
class ZmqOptions:
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    ack_timeout: float = 2.0
    curve: CurveServer | None = None
    insecure: bool = False


def endpoint_host(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme != "tcp":
        return ""
    host = parts.netloc.rsplit(":", 1)[0]
    return host.strip("[]")


def is_local(endpoint: str) -> bool:
    """True for ipc://, inproc:// and tcp:// on a loopback address or `localhost`."""
    scheme = urlsplit(endpoint).scheme
    if scheme in ("ipc", "inproc"):
        return True
    host = endpoint_host(endpoint)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "*", an interface name or a host name


def exposure_problem(endpoint: str, curve: bool, insecure: bool, verb: str = "bind") -> str | None:
    """Why `endpoint` must not be used in the clear, or None if it may. The store (which
    binds) turns CurveZMQ on with zmq.curve; a client (which connects) with --keys."""
    if curve or insecure or is_local(endpoint):
        return None
    fix = (
        "set zmq.curve = true (keys from `autogrocery keys`)"
        if verb == "bind"
        else "pass --keys DIR (this client's bundle, made by `autogrocery keys`)"
    )
    return f"zmq: refusing to {verb} {endpoint} without CurveZMQ; {fix}, or pass --insecure"


def tune(sock: zmq.Socket[bytes]) -> None:
    sock.linger = LINGER_MS
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)
    sock.sndhwm = SEND_HWM
    sock.rcvhwm = SEND_HWM


def as_server(sock: zmq.Socket[bytes], curve: CurveServer | None) -> None:
    tune(sock)
    if curve is not None:
        sock.curve_secretkey = curve.secret
        sock.curve_publickey = curve.public
        sock.curve_server = True


def as_client(sock: zmq.Socket[bytes], curve: CurveClient | None) -> None:
    tune(sock)
    sock.setsockopt(zmq.RECONNECT_IVL, 100)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
    if curve is not None:
        sock.curve_secretkey = curve.secret
        sock.curve_publickey = curve.public
        sock.curve_serverkey = curve.server


def send(sock: zmq.Socket[bytes], parts: list[bytes]) -> bool:
    """Send without blocking. False if the peer's queue is full (the caller retries
    later); `zmq.ZMQError` with EHOSTUNREACH if a ROUTER's peer is gone."""
    try:
        sock.send_multipart(parts, flags=zmq.NOBLOCK)
    except zmq.Again:
        return False
    return True


def require_safe(endpoint: str, curve: bool, insecure: bool, verb: str = "bind") -> None:
    """Raise TransportError when `endpoint` must not be used in the clear."""
    problem = exposure_problem(endpoint, curve, insecure, verb)
    if problem is not None:
        raise TransportError(problem)


def require_connectable(endpoint: str) -> None:
    """Raise TransportError when libzmq will not take `endpoint` to connect to (an unknown
    scheme, no port): a client's I/O thread would otherwise fail on it again and again.
    A throwaway socket asks libzmq; connecting is asynchronous, so this sends nothing."""
    sock: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.DEALER)
    try:
        sock.connect(endpoint)
    except zmq.ZMQError as exc:
        why = exc.strerror.split(" (addr=")[0]  # pyzmq repeats the address
        raise TransportError(
            f"zmq: cannot connect to {endpoint!r}: {why}; expected tcp://HOST:PORT"
        ) from None
    finally:
        sock.close(linger=0)


def drain_router(
    sock: zmq.Socket[bytes],
    kinds: frozenset[str],
    handle: Callable[[bytes, Wire], None],
    bad: BadFrames,
    counts: dict[str, int],
) -> None:
    """Read up to MAX_BATCH [peer id, frame] messages from a ROUTER; a frame that does
    not decode (or whose handler calls it malformed) is dropped and counted."""
    for _ in range(MAX_BATCH):
        try:
            parts = sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return
        counts["frames_in"] += 1
        if len(parts) != 2:
            bad.drop(parts[0], f"{len(parts) - 1} frames in one message, expected 1")
            continue
        peer, data = parts
        try:
            handle(peer, decode(data, kinds))
        except WireError as exc:
            bad.drop(peer, exc)


class BadFrames:
    """Counts dropped frames and logs the first one of each peer."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.count = 0
        self._logged: set[bytes] = set()

    def drop(self, peer: bytes, reason: object) -> None:
        self.count += 1
        if peer in self._logged:
            return
        if len(self._logged) > 10_000:
            self._logged.clear()
        self._logged.add(peer)
        log.warning(
            "%s channel: dropped a bad frame from peer %s: %s (further ones from it are "
            "only counted)",
            self.channel,
            peer.hex() or "-",
            reason,
        )


class Waker:
    """Wakes a zmq poll from any thread: a byte on a socketpair the poller watches."""

    def __init__(self) -> None:
        self._recv, self._send = socket.socketpair()
        self._recv.setblocking(False)
        self._send.setblocking(False)

    def fileno(self) -> int:
        return self._recv.fileno()

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # already pending, or closed
            self._send.send(b"\0")

    def drain(self) -> None:
        try:
            while self._recv.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        self._recv.close()
        self._send.close()


class IoLoop(Generic[Item]):
    """A thread that alone owns some zmq sockets. Subclasses implement the hooks; `Item`
    is what other threads `post` to it, for `_handle`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ctx: zmq.SyncContext = zmq.Context()
        self._inbox: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._waker = Waker()
        self._poller = zmq.Poller()
        self._poller.register(self._waker.fileno(), zmq.POLLIN)
        self._readers: dict[zmq.Socket[bytes], Callable[[], None]] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    # --- any thread --------------------------------------------------------------------

    def post(self, item: Item) -> None:
        if not self._stopping.is_set():
            self._inbox.put(item)
            self._waker.wake()

    def start_loop(self) -> None:
        self._thread.start()

    def stop_loop(self, timeout: float = 5.0) -> None:
        """Stop the thread (it closes its sockets), then terminate the context."""
        self._stopping.set()
        self._waker.wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("%s: I/O thread did not stop within %.0fs", self.name, timeout)
            return
        if not self._thread.ident:  # never started: close what the constructor opened
            self.abort()
            return
        self._waker.close()
        self.ctx.destroy(linger=0)  # closes whatever a failed hook left open, then terms

    def abort(self) -> None:
        """Undo a constructor that failed half-way (the thread never ran)."""
        self._guard(self._close)
        self._waker.close()
        self.ctx.destroy(linger=0)  # closes whatever a failed hook left open, then terms

    # --- the loop thread ---------------------------------------------------------------

    def watch(self, sock: zmq.Socket[bytes], on_readable: Callable[[], None]) -> None:
        self._poller.register(sock, zmq.POLLIN)
        self._readers[sock] = on_readable

    def unwatch(self, sock: zmq.Socket[bytes]) -> None:
        if sock in self._readers:
            self._poller.unregister(sock)
            del self._readers[sock]

    def release(self, sock: zmq.Socket[bytes] | None, linger: int | None = None) -> None:
        """Stop watching `sock` and close it (None: nothing to do)."""
        if sock is not None:
            self.unwatch(sock)
            sock.close(linger=linger)

    def _main(self) -> None:
        try:
            self._guard(self._setup)
            while not self._stopping.is_set():
                wait = self._guard(self._tick, time.monotonic())
                wait = 0.1 if wait is None else min(max(wait, 0.0), 1.0)
                events = self._poller.poll(math.ceil(wait * 1000))
                for target, _ in events:
                    if target == self._waker.fileno():
                        self._waker.drain()
                    elif target in self._readers:
                        self._guard(self._readers[target])
                while True:
                    try:
                        item = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    self._guard(self._handle, item)
        except zmq.ContextTerminated:
            pass
        finally:
            self._guard(self._close)

    def _guard(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R | None:
        """Run a hook; a bug in one never kills the thread (and so the channel)."""
        try:
            return fn(*args, **kwargs)
        except zmq.ContextTerminated:
            raise
        except Exception:
            log.exception("%s: error in %s", self.name, getattr(fn, "__name__", fn))
            return None

    def _setup(self) -> None:
        """First thing on the loop thread."""

    def _tick(self, now: float) -> float:
        """Timers; returns the seconds until it wants to run again."""
        return 1.0

    def _handle(self, item: Item) -> None:
        """An item `post`ed by another thread."""

    def _close(self) -> None:
        """Close every socket (runs on the loop thread as it ends)."""

"""The connecting side of a channel (a robot host's link, a remote analytics process's
feed): an I/O thread that owns DEALER sockets to one store endpoint. The endpoint and
the keys are checked before anything opens; each socket is dialled with its CurveZMQ
handshake watched (a refusal is said once, with its cause), and read in batches of
one-frame messages while it is still the one in use."""

from __future__ import annotations

from collections.abc import Callable

import zmq

from autogrocery.domain.messages.wire import WireError
from autogrocery.transports.codec import Wire, decode
from autogrocery.transports.handshake import HandshakeWatch
from autogrocery.transports.heartbeat import Heartbeat
from autogrocery.transports.zmqio import (
    MAX_BATCH,
    BadFrames,
    CurveClient,
    IoLoop,
    Item,
    as_client,
    require_connectable,
    require_safe,
)

Socket = zmq.Socket[bytes]


class DealerLoop(IoLoop[Item]):
    def __init__(
        self,
        name: str,
        endpoint: str,
        *,
        who: str,
        channel: str,
        heartbeat: Heartbeat | None,
        curve: CurveClient | None,
        insecure: bool,
    ) -> None:
        """`who` connects (as the handshake's messages say it), over `channel` (as the
        dropped frames are counted)."""
        require_safe(endpoint, curve is not None, insecure, verb="connect to")
        require_connectable(endpoint)
        super().__init__(name)
        self.endpoint = endpoint
        self.curve = curve
        self.default_heartbeat = heartbeat or Heartbeat()
        self.handshakes = HandshakeWatch(who, endpoint, curve)
        self.bad = BadFrames(channel)

    def dial(self, on_readable: Callable[[], None]) -> tuple[Socket, Socket]:
        """A new DEALER to the endpoint, read by `on_readable`, and the monitor of its
        handshakes; both watched by this loop."""
        sock: Socket = self.ctx.socket(zmq.DEALER)
        as_client(sock, self.curve)
        monitor = self.handshakes.watch(sock)
        self.watch(monitor, lambda: self.handshakes.readable(monitor))
        sock.connect(self.endpoint)
        self.watch(sock, on_readable)
        return sock, monitor

    def hang_up(self, sock: Socket | None, monitor: Socket | None, linger: int | None) -> None:
        self.release(sock, linger)
        self.release(monitor, 0)

    def drain(
        self,
        sock: Socket,
        current: Callable[[], Socket | None],
        kinds: frozenset[str],
        handle: Callable[[Wire], None],
    ) -> None:
        """Read up to MAX_BATCH messages from `sock` while it is `current()` (a message's
        handler may dial again); a frame that does not decode, or whose handler calls it
        malformed, is dropped and counted."""
        for _ in range(MAX_BATCH):
            if sock is not current():
                return
            try:
                parts = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                if len(parts) != 1:
                    raise WireError(f"{len(parts)} frames in one message, expected 1")
                handle(decode(parts[0], kinds))
            except WireError as exc:
                self.bad.drop(b"store", exc)

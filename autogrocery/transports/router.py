"""The store's side of a ZeroMQ channel: an I/O thread serving one ROUTER socket.

Bound when it is made (so a refused address fails the store's start, naming the
channel), behind its CURVE gate when the channel has keys; the robots' channel and the
metrics channel are two of these.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import zmq

from autogrocery.transports.handshake import server_gate
from autogrocery.transports.zmqio import CurveServer, IoLoop, TransportError, as_server

log = logging.getLogger(__name__)

Item = TypeVar("Item")


class RouterLoop(IoLoop[Item]):
    """Binds `endpoint` for `channel` (the gate's name; `label` is how errors and logs
    name it); frames that arrive go to `_readable`. A subclass sets the fields its
    `_close` needs before calling this constructor: a bind that fails closes at once."""

    def __init__(
        self, name: str, channel: str, label: str, endpoint: str, curve: CurveServer | None
    ) -> None:
        super().__init__(name)
        self.gate = server_gate(channel, self.ctx, curve)
        self.sock: zmq.Socket[bytes] = self.ctx.socket(zmq.ROUTER)
        try:
            as_server(self.sock, curve)
            self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
            self.sock.bind(endpoint)
        except zmq.ZMQError as exc:
            self.abort()
            raise TransportError(f"zmq: cannot bind the {label} to {endpoint}: {exc}") from None
        self.endpoint: str = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.watch(self.sock, self._readable)
        if self.gate is not None:
            self.watch(self.gate.watch(self.sock), self.gate.readable)
        log.info("%s bound to %s (curve %s)", label, self.endpoint, "on" if self.gate else "off")

    def refused(self) -> dict[str, int]:
        """The gate's counts of peers it turned away (none without keys)."""
        return self.gate.stats() if self.gate is not None else {}

    def _readable(self) -> None:
        """Frames wait on the socket: read them."""

    def _close(self) -> None:
        if self.gate is not None:
            self.gate.close(self.sock)
        self.sock.close(linger=0)

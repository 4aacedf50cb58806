"""Who gets a connection: a cap on all of them, a cap per client address, and a door
that stays open for probes and operators.

- `api.max_connections` open connections in all; `api.max_connections_per_client` from
  one client address (IPv4 as is, IPv6 by its /64, as the login throttle counts them),
  so one client cannot hold every connection and lock everyone out.
- A connection past either cap is not turned away blind: the gate reads its request
  head (at most `SNIFF_BYTES`, for at most `REFUSAL_LINGER` s). A liveness, readiness or
  metrics probe (`GET /healthz`, `/readyz`, `/metrics`) or a request with an operator's
  valid token is let in anyway (at most `PRIORITY_SLOTS` such connections at once, each
  for that one request), so a crowd never makes a probe restart a healthy store and
  operators can always look. Everything else is answered 503 with `Retry-After` once
  its request is read (closing a socket with unread input resets it, and a reset can
  lose the 503), or after `REFUSAL_LINGER` s if it sends nothing. At most
  `REFUSALS_WAITING` such connections wait at once: a new one takes the place of the
  one that waited longest (which gets its 503 then), so a crowd that connects and sends
  nothing cannot keep a probe from being read.
- Each refusal is counted (`ConnectionStats`); the global cap logs a warning at most
  every `WARN_EVERY` s, the per-client cap one line per offending address per
  `OFFENDER_WARN_EVERY` s. Addresses are never metric labels (unbounded cardinality).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import orjson

from autogrocery.api.problems import PROBLEM_TYPE
from autogrocery.api.throttle import client_key

log = logging.getLogger(__name__)

WARN_EVERY = 10.0  # seconds between "connection limit reached" lines while it lasts
OFFENDER_WARN_EVERY = 60.0  # seconds between two lines about one address at its cap
OFFENDERS_REMEMBERED = 1024  # addresses whose last line is remembered, at most
REFUSAL_LINGER = 1.0  # seconds a connection past a cap has to send its request head
REFUSALS_WAITING = 32  # such connections waiting at once (inside serving's FD_RESERVE)
PRIORITY_SLOTS = 16  # probes and operators let in past a cap, at once (inside it too)
SNIFF_BYTES = 8192  # of a request head read past a cap, at most
REFUSAL_RETRY_AFTER = 1
PROBES = frozenset({b"/healthz", b"/readyz", b"/metrics"})

# The protocol serving a connection that got in: (gate, client, priority) -> protocol.
HandlerFactory = Callable[["ConnectionGate", str, bool], asyncio.Protocol]
# Whether a token is an operator's, valid now.
OperatorCheck = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class ConnectionStats:
    open: int  # connections open now, priority ones included
    limit: int  # api.max_connections (or fewer, if the open-file limit says so)
    per_client_limit: int  # api.max_connections_per_client (0: none)
    refused: int  # 503s because api.max_connections was reached
    refused_per_client: int  # 503s because the client was at its own cap
    priority: int  # probes and operators let in past a cap


class ConnectionGate:
    """Counts open connections, in all and per client address, and decides who gets in."""

    def __init__(
        self, limit: int, per_client: int = 0, operator: OperatorCheck | None = None
    ) -> None:
        self.limit = limit
        self.per_client = per_client  # 0: no cap per client
        self.operator = operator
        self.open = 0
        self.by_client: dict[str, int] = {}
        self.refused = 0
        self.refused_per_client = 0
        self.priority = 0  # let in past a cap, in all
        self.priority_open = 0
        # Connections past a cap whose request head is awaited, oldest first.
        self.waiting: dict[_Refusal, None] = {}
        self._warned_at = -WARN_EVERY
        self._offenders: dict[str, float] = {}  # address -> when its last line was logged

    def stats(self) -> ConnectionStats:
        return ConnectionStats(
            self.open,
            self.limit,
            self.per_client,
            self.refused,
            self.refused_per_client,
            self.priority,
        )

    def factory(self, handler: HandlerFactory) -> Callable[[], asyncio.Protocol]:
        def protocol() -> asyncio.Protocol:
            return _Door(self, handler)

        return protocol

    def over_cap(self, client: str) -> str | None:
        """Why a new connection from `client` may not get in now, or None."""
        if self.per_client and self.by_client.get(client, 0) >= self.per_client:
            return "client"
        if self.open >= self.limit:
            return "limit"
        return None

    def enter(self, client: str, priority: bool = False) -> None:
        self.open += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1
        if priority:
            self.priority += 1
            self.priority_open += 1

    def release(self, client: str, priority: bool = False) -> None:
        self.open -= 1
        left = self.by_client.get(client, 1) - 1
        if left > 0:
            self.by_client[client] = left
        else:
            self.by_client.pop(client, None)
        if priority:
            self.priority_open -= 1

    def wants_in(self, head: bytes) -> bool:
        """Whether a request head is a probe's or carries an operator's valid token."""
        line, _, rest = head.partition(b"\r\n")
        parts = line.split(b" ")
        if len(parts) != 3:
            return False
        method, target = parts[0], parts[1]
        path, _, query = target.partition(b"?")
        if method == b"GET" and path in PROBES:
            return True
        if self.operator is None:
            return False
        token = b""
        for header in rest.split(b"\r\n"):
            name, _, value = header.partition(b":")
            if name.strip().lower() == b"authorization":
                scheme, _, token = value.strip().partition(b" ")
                if scheme.lower() != b"bearer":
                    token = b""
                break
        if not token and path == b"/api/events":  # the WebSocket's ?token=
            for pair in query.split(b"&"):
                if pair.startswith(b"token="):
                    token = pair[len(b"token=") :]
        try:
            return bool(token) and self.operator(token.strip().decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return False

    def refuse(self, why: str, client: str) -> None:
        """Count a 503 and say so in the log, without flooding it."""
        now = time.monotonic()
        if why == "client":
            self.refused_per_client += 1
            if now - self._offenders.get(client, -OFFENDER_WARN_EVERY) < OFFENDER_WARN_EVERY:
                return
            if len(self._offenders) >= OFFENDERS_REMEMBERED:
                self._offenders = {
                    a: t for a, t in self._offenders.items() if now - t < OFFENDER_WARN_EVERY
                }
            self._offenders[client] = now
            log.warning(
                "client %s holds %d connections (api.max_connections_per_client); its new "
                "connections get 503 until some close (%d refused so far, all clients)",
                client,
                self.by_client.get(client, 0),
                self.refused_per_client,
                extra={"client": client, "refused": self.refused_per_client},
            )
            return
        self.refused += 1
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning(
                "connection limit reached: %d open (api.max_connections); new connections "
                "get 503 until some close (%d refused so far)",
                self.open,
                self.refused,
                extra={"open": self.open, "refused": self.refused},
            )


_REFUSAL_BODY = orjson.dumps(
    {
        "type": PROBLEM_TYPE + "unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "the server is at its connection limit; try again shortly",
        "retry_after": REFUSAL_RETRY_AFTER,
    }
)
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/problem+json\r\n"
    b"Retry-After: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
) % (REFUSAL_RETRY_AFTER, len(_REFUSAL_BODY), _REFUSAL_BODY)


class _Door(asyncio.Protocol):
    """Every new connection's first protocol: it learns the client's address and hands
    the connection on, to the HTTP handler or to a `_Refusal`."""

    def __init__(self, gate: ConnectionGate, handler: HandlerFactory) -> None:
        self.gate = gate
        self.handler = handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        client = client_key(peer[0] if isinstance(peer, tuple) and peer else None)
        why = self.gate.over_cap(client)
        if why is None:
            self.gate.enter(client)
            hand_over(transport, self.handler(self.gate, client, False))
        else:
            hand_over(transport, _Refusal(self.gate, self.handler, client, why))


def hand_over(transport: asyncio.BaseTransport, protocol: asyncio.Protocol) -> None:
    transport.set_protocol(protocol)
    protocol.connection_made(transport)


class _Refusal(asyncio.Protocol):
    """A connection past a cap: read its request head; let a probe or an operator in,
    answer anyone else 503 and hang up."""

    def __init__(
        self, gate: ConnectionGate, handler: HandlerFactory, client: str, why: str
    ) -> None:
        self.gate = gate
        self.handler = handler
        self.client = client
        self.why = why
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.head = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        waiting = self.gate.waiting
        if len(waiting) >= REFUSALS_WAITING:
            next(iter(waiting))._refuse()  # the one that waited longest
        waiting[self] = None
        self.timer = asyncio.get_running_loop().call_later(REFUSAL_LINGER, self._refuse)

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.head += data
        if b"\r\n\r\n" not in self.head and len(self.head) < SNIFF_BYTES:
            return
        gate = self.gate
        if gate.priority_open < PRIORITY_SLOTS and gate.wants_in(self.head):
            self._stop_waiting()
            gate.enter(self.client, priority=True)
            handler = self.handler(gate, self.client, True)
            hand_over(self.transport, handler)
            handler.data_received(self.head)
            return
        self._refuse()  # what it sent is read: the close will not reset

    def _refuse(self) -> None:
        self._stop_waiting()
        self.gate.refuse(self.why, self.client)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(REFUSAL)
            self.transport.close()

    def _stop_waiting(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.gate.waiting.pop(self, None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()

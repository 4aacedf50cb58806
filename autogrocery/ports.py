"""Loopback ports chosen in advance, for a server that must be told its port before
it starts (a store's API and robot endpoint in the bench, a hub cluster's routes)."""

from __future__ import annotations

import random
import socket

_PORTS = range(20000, 32768)  # below the ephemeral ports (Linux 32768+, others 49152+)
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on, for a server to bind.

    Chosen in advance where a server cannot bind port 0 and say where it listens: a
    store's robot processes need the robot endpoint before it is up, a hub cluster's
    nodes each other's route ports. Bind-and-close on port 0 would hand back an
    ephemeral port, which the kernel gives the next outgoing connection on the machine
    (the bench's own among them) before the server binds it. A port below that range is
    taken meanwhile only by something that asks for it by number; if one did, the
    server does not start and says the port is in use.
    """
    for _ in range(100):
        port = random.choice(_PORTS)  # noqa: S311 (a port, not a secret)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {_PORTS.start} and {_PORTS.stop - 1}")

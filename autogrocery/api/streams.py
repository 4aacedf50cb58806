"""What an event WebSocket's connection may hold, and how it is let go.

A client that stops reading fills, in turn, the kernel's send buffer of its socket
(SO_SNDBUF, `api.event_send_buffer`), the server's write buffer (`WRITE_HIGH`), and its
subscription's queue (`api.event_buffer_bytes`, which then drops the oldest). When its
stream ends (the store stops, a ping went unanswered), what it has not taken is given
`HANG_UP_AFTER` seconds and then dropped with a reset (RST): a plain close would leave
the kernel holding the unsent bytes, orphaned, for as long as the client keeps its
window shut and the kernel keeps probing it (minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import socket
import struct
import termios

from aiohttp import WSCloseCode, web

log = logging.getLogger(__name__)

# The server's own write buffer per event WebSocket: sending waits past WRITE_HIGH bytes
# (checked every WRITE_CHUNK bytes), so a client that stops reading holds a few KiB
# here, and its events wait, counted, in its subscription (api.event_buffer_bytes).
WRITE_HIGH = 8 * 1024
WRITE_CHUNK = 4 * 1024
HANG_UP_AFTER = 2.0  # seconds an ended stream has to take its last bytes, then reset
CLOSE_WITHIN = 2.0  # seconds, at shutdown, for all streams to close; then reset
DRAIN_POLL = 0.1  # seconds between two looks at a closing stream's unsent bytes
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


def bound_buffers(transport: asyncio.Transport, send_buffer: int) -> None:
    """What an event WebSocket may hold unsent: WRITE_HIGH in the server's buffer, and
    `send_buffer` (SO_SNDBUF, which Linux doubles) in the kernel instead of up to 4 MiB."""
    transport.set_write_buffer_limits(high=WRITE_HIGH)
    sock = transport.get_extra_info("socket")
    if send_buffer > 0 and sock is not None:
        with contextlib.suppress(OSError, AttributeError):  # not a TCP socket: leave it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)


def _socket_open(transport: asyncio.Transport) -> bool:
    """Whether the connection's socket is still open: not closing, or closing but still
    flushing the server's buffer. (Once closed, its descriptor may be another's.)"""
    return not transport.is_closing() or transport.get_write_buffer_size() > 0


def unsent(transport: asyncio.Transport) -> int:
    """Bytes the client has not taken yet: in the server's buffer and in the kernel's
    send queue (TIOCOUTQ, which is SIOCOUTQ on a TCP socket)."""
    size = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is not None and _socket_open(transport):
        with contextlib.suppress(OSError, AttributeError, ValueError):
            queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            size += struct.unpack("i", queued)[0]
    return size


def reset(transport: asyncio.Transport) -> None:
    """Hang up at once and drop what the client has not taken, in the kernel too."""
    sock = transport.get_extra_info("socket")
    if sock is not None and _socket_open(transport):
        with contextlib.suppress(OSError, AttributeError, ValueError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    transport.abort()


async def hang_up(transport: asyncio.Transport) -> None:
    """An ended stream's connection: closed once its client has taken what was sent
    (at once, for a client that reads), reset if it has not within HANG_UP_AFTER s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_UP_AFTER
    try:
        while unsent(transport) > 0:
            if loop.time() >= deadline:
                reset(transport)
                return
            await asyncio.sleep(DRAIN_POLL)
    except asyncio.CancelledError:  # the server stops: no more waiting
        reset(transport)
        raise
    transport.close()


async def close_all(websockets: dict[web.WebSocketResponse, asyncio.Transport]) -> None:
    """Close every stream at once (1001, going away), within CLOSE_WITHIN seconds in
    all; reset the connections of those that have not taken their close by then (a
    client that does not read cannot take a close frame)."""
    if not websockets:
        return
    open_now = list(websockets.items())
    closes = [
        asyncio.create_task(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping"))
        for ws, _ in open_now
    ]
    _, late = await asyncio.wait(closes, timeout=CLOSE_WITHIN)
    stalled = [t for _, t in open_now if not t.is_closing() or unsent(t) > 0]
    for transport in stalled:
        reset(transport)
    for task in late:
        task.cancel()
    await asyncio.gather(*closes, return_exceptions=True)
    if stalled:
        log.info("reset %d event streams whose clients did not take their close", len(stalled))

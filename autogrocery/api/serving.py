"""Serving the app over HTTP, guarded against clients that are slow or too many.

aiohttp's own knobs do what they can: `keepalive_timeout` closes a connection that has
not sent a complete request's headers within `api.header_timeout` of connecting or of
its previous response (so a slowloris trickling a byte a second is cut off), and the
parser's limits bound the URL and the headers. What aiohttp lacks is written here:
caps on open connections, in all and per client address, that probes and operators
get past (`api.gate.ConnectionGate`), an open-file limit that fits them, and
problem+json for requests the parser rejects (414, 431, 400) instead of a text/plain
page that echoes the offending header. The body's timeout is where the body is read
(`bodies.read_body`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any, cast

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from autogrocery.api.core import CONNECTION_LIMITS, CORE, REQUEST_ID
from autogrocery.api.gate import ConnectionGate
from autogrocery.api.problems import problem

log = logging.getLogger(__name__)
access_log = logging.getLogger("autogrocery.access")

GIL_SWITCH_INTERVAL = 0.001
SHUTDOWN_TIMEOUT = 3.0
MAX_URL = 8192  # bytes of the request line's target
# One header line; different from MAX_URL so a too-long line tells which it was (414/431).
MAX_HEADER = 8190
MAX_HEADERS = 128
FD_RESERVE = 128  # descriptors the store keeps for itself: SQLite, ZeroMQ, logs, pipes


class JsonAccessLogger(AbstractAccessLogger):
    """One line per request. The path only: no query string (it may carry a token)."""

    @property
    def enabled(self) -> bool:
        return access_log.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status,
            extra={
                "request_id": request.get(REQUEST_ID),
                "status": response.status,
                "ms": round(time * 1000, 2),
                "remote": request.remote,
            },
        )


def bind(host: str, port: int) -> list[socket.socket]:
    """Sockets bound (not yet listening) to every address `host` names, so that a busy
    port fails before anything else starts. Raises OSError."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:  # one port for all, as with a named one
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Handler(web.RequestHandler):
    """aiohttp's connection handler, counted by the gate, and answering the requests
    its parser rejects with problem+json that never echoes what the client sent. One let
    in past a cap (`priority`: a probe or an operator) serves that one request."""

    __slots__ = ("_client", "_gate", "_priority")

    def __init__(
        self,
        manager: web.Server,
        gate: ConnectionGate,
        client: str,
        priority: bool,
        **options: Any,
    ) -> None:
        super().__init__(manager, **options)
        self._gate: ConnectionGate | None = gate
        self._client = client
        self._priority = priority

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._priority:
            self.close()  # after the request in hand: the slot is for that one

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._gate is not None:
            self._gate.release(self._client, self._priority)
            self._gate = None
        super().connection_lost(exc)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: the answer is half sent
            raise ConnectionError("the response was being sent when the error happened")
        status, title, detail = _rejected(status, exc)
        if status >= 500:
            self.log_exception("error handling a request from %s", request.remote, exc_info=exc)
        else:  # the client's doing: one line, no traceback
            log.info("rejected a request from %s: %s %s", request.remote, status, detail)
        response = problem(status, title, detail)
        response.force_close()
        return response


def _rejected(status: int, exc: BaseException | None) -> tuple[int, str, str]:
    if isinstance(exc, LineTooLong):
        if exc.args[1] == MAX_URL:
            return 414, "URI too long", f"the request line is longer than {MAX_URL} bytes"
        return (
            431,
            "Request header fields too large",
            f"a header is longer than {MAX_HEADER} bytes",
        )
    if isinstance(exc, BadHttpMessage) and "too many headers" in str(exc).lower():
        return 431, "Request header fields too large", f"more than {MAX_HEADERS} headers"
    if status < 500:
        return status, "Bad request", "the request is not valid HTTP/1.1"
    return (
        500,
        "Internal server error",
        "the server failed to handle this request; it has been logged",
    )


class _GuardedSite(web.SockSite):
    """A SockSite whose connections come from `factory` (the gate) instead of the
    runner's plain handler. The runner stops it like any site."""

    def __init__(
        self, runner: web.AppRunner, sock: socket.socket, factory: Callable[[], asyncio.Protocol]
    ) -> None:
        super().__init__(runner, sock, backlog=512)
        self._factory = factory

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers with the runner
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._factory, sock=self._sock, backlog=self._backlog
        )


def connection_budget(wanted: int) -> int:
    """Raise the soft open-file limit toward the hard one so `wanted` connections fit
    beside the store's own descriptors; return how many fit (with a warning if fewer)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to manage
        return wanted
    kind = resource.RLIMIT_NOFILE
    soft, hard = resource.getrlimit(kind)
    needed = wanted + FD_RESERVE
    infinite = resource.RLIM_INFINITY
    if soft != infinite and soft < needed:
        target = needed if hard == infinite else min(needed, hard)
        try:
            resource.setrlimit(kind, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == infinite or soft >= needed:
        return wanted
    fit = max(soft - FD_RESERVE, soft // 2, 1)
    log.warning(
        "the open-file limit (ulimit -n: %d, hard %s) leaves room for %d connections, "
        "fewer than api.max_connections = %d: serving at most %d; raise the hard limit "
        "(ulimit -Hn, systemd LimitNOFILE=) to serve more",
        soft,
        "unlimited" if hard == infinite else hard,
        fit,
        wanted,
        fit,
    )
    return fit


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection while the store starts. The start builds the heap the
    server then lives on (the stock actor's products and lots, the routes): collecting
    it while it grows is work thrown away, a quarter of the stock actor's load at
    50,000 SKUs. `tune_for_serving` freezes it before load arrives; the collector runs
    again when the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def tune_for_serving() -> None:
    """Process-wide settings for a store that serves: call once, before load arrives."""
    # Actor threads take turns with the event loop for the GIL. Handing it over every
    # 1 ms instead of 5 bounds how long the loop waits behind busy actors.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    # Everything alive now lives as long as the server: keep it out of the cyclic
    # collector's way, so a full collection never stalls the loop mid-request. Not
    # collected first: a start leaves no cycles behind (a collection here found none
    # at 50,000 SKUs) and would take 0.2 s to find none.
    gc.freeze()


async def serve(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sockets: list[socket.socket] | None = None,
) -> tuple[web.AppRunner, str]:
    """Start serving `app` on `sockets` (bound by `bind`), else on host:port, with the
    app's limits; returns the runner (its `cleanup()` stops everything) and the URL."""
    tune_for_serving()
    limits = app[CONNECTION_LIMITS]
    options: dict[str, object] = {
        "keepalive_timeout": limits.header_timeout,
        "max_line_size": MAX_URL,
        "max_field_size": MAX_HEADER,
        "max_headers": MAX_HEADERS,
        "access_log_class": JsonAccessLogger,
    }
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        sockets = sockets if sockets is not None else bind(host, port)
        auth = app[CORE].auth

        def operator(token: str) -> bool:
            try:
                return auth.tokens.verify(token).role == "operator"
            except Exception:  # not a valid token now: not an operator's
                return False

        budget = connection_budget(limits.max_connections)
        gate = ConnectionGate(budget, limits.max_connections_per_client, operator)
        app[CORE].metrics.watch_connections(gate.stats)
        loop, server = asyncio.get_running_loop(), cast(web.Server, runner.server)

        def handler(gate: ConnectionGate, client: str, priority: bool) -> asyncio.Protocol:
            return Handler(server, gate, client, priority, loop=loop, **options)

        for sock in sockets:
            await _GuardedSite(runner, sock, gate.factory(handler)).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, url_of(sockets[0])

"""The Textual dashboard in a browser, with textual-serve: the web server that
`autogrocery dashboard --web` runs in front of a store or a chain's head office.

Each browser session gets its own `autogrocery dashboard --served` process (textual-serve
speaks to it over its stdin/stdout), attached to the store over HTTP and `/api/events`
like any dashboard (or, in front of a chain's head office, the head office's dashboard
over its API). The page is behind the server's own operator login: `/login` checks the
username and password against the store or head office (`POST /api/auth/login`, then
the role with `GET /api/auth/me`), and a session cookie (random, HttpOnly, SameSite=Strict)
opens the page and its WebSocket. The session's login reaches its dashboard process
on an inherited pipe (`--credentials-fd`), never on a command line or in an
environment; the server keeps its end open, so a session's process ends with it.

Loopback (127.0.0.1) unless `--host` says otherwise: the login crosses the network in
clear text then, so put HTTPS in front (a reverse proxy) for a tablet on the shop floor.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
import orjson
from aiohttp import WSCloseCode, web
from aiohttp.typedefs import Handler
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from autogrocery.client import ApiError, Credentials, Disconnected
from autogrocery.tui.client import ApiClient

if TYPE_CHECKING:
    from asyncio.subprocess import Process

log = logging.getLogger("autogrocery.web")

COOKIE = "autogrocery_session"
SESSION_TTL = 12 * 3600.0  # seconds a login lasts
OPEN = ("/login", "/static/")  # paths served without a session


@dataclass(slots=True)
class Session:
    operator: Credentials
    expires: float


class SessionAppService(AppService):
    """textual-serve's app process, with the session's login on an inherited pipe."""

    def __init__(self, argv: list[str], login: bytes, **options: Any) -> None:
        super().__init__(" ".join(argv), **options)
        self.argv = argv
        self.login = login
        self.lifeline: int | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        theirs, ours = os.pipe()
        try:
            self._process = process = await asyncio.create_subprocess_exec(
                *self.argv,
                "--credentials-fd",
                str(theirs),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._build_environment(width=width, height=height),
                pass_fds=(theirs,),
            )
        except BaseException:
            os.close(ours)
            raise
        finally:
            os.close(theirs)
        os.write(ours, self.login)  # a few hundred bytes: the pipe takes them at once
        self.lifeline = ours
        self._stdin = process.stdin  # a PIPE: never None
        return process

    def close_lifeline(self) -> None:
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None


class WebDashboard(Server):
    def __init__(self, store_url: str, argv: list[str], host: str, port: int) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title="autogrocery")
        self.store_url = store_url
        self.argv = argv
        self.sessions: dict[str, Session] = {}
        self.sockets: set[web.WebSocketResponse] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.require_login)
        app.add_routes(
            [
                web.get("/login", self.login_page),
                web.post("/login", self.login),
                web.post("/logout", self.logout),
            ]
        )
        return app

    # --- the login ---------------------------------------------------------------------

    def session(self, request: web.Request) -> Session | None:
        found = self.sessions.get(request.cookies.get(COOKIE, ""))
        if found is not None and found.expires < time.time():
            self.sessions.pop(request.cookies.get(COOKIE, ""), None)
            return None
        return found

    @web.middleware
    async def require_login(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(OPEN) or self.session(request) is not None:
            response: web.StreamResponse = await handler(request)
            return response
        if request.path == "/":
            raise web.HTTPSeeOther("/login")
        raise web.HTTPUnauthorized(text="log in first: /login")

    async def login_page(self, request: web.Request) -> web.Response:
        return page("")

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        operator = Credentials(username.strip(), password)
        try:
            async with ApiClient(self.store_url, operator, timeout=10.0) as client:
                me = await client.call("GET", "/api/auth/me")
        except ApiError as exc:
            status = exc.status if exc.status in (401, 429) else 502
            why = {
                401: "wrong username or password",
                429: f"too many failed logins: {exc.detail or 'wait a while'}",
            }.get(exc.status, f"{self.store_url} answered: {exc}")
            return page(why, status=status)
        except Disconnected as exc:
            return page(f"{self.store_url} is unreachable: {exc}", status=503)
        if me.get("role") != "operator":
            return page(f"{username} is not an operator: this page is for operators", 403)
        token = secrets.token_urlsafe(32)
        self.sessions[token] = Session(operator, time.time() + SESSION_TTL)
        log.info("operator %s logged in from %s", username, request.remote)
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            COOKIE, token, max_age=int(SESSION_TTL), httponly=True, samesite="Strict", path="/"
        )
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.pop(request.cookies.get(COOKIE, ""), None)
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    # --- the page and its app session ---------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.Response:
        """textual-serve's page, with URLs for the address the browser used."""
        origin = f"{request.scheme}://{request.host}"
        websocket = ("wss" if request.scheme == "https" else "ws") + f"://{request.host}/ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": websocket,
            "config": {"static": {"url": f"{origin}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        session = self.session(request)
        origin = request.headers.get("Origin")
        if session is None:
            raise web.HTTPUnauthorized(text="log in first: /login")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            raise web.HTTPForbidden(text="another site's page may not open this session")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        login = orjson.dumps({"operator": [session.operator.username, session.operator.password]})
        service: SessionAppService | None = None
        self.sockets.add(websocket)
        try:
            await websocket.prepare(request)
            service = SessionAppService(
                self.argv,
                login + b"\n",
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("dashboard session failed")
        finally:
            self.sockets.discard(websocket)
            if service is not None:
                await service.stop()
                service.close_lifeline()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        pass  # textual-serve prints a banner to the console here; `serve` says where it is

    async def on_shutdown(self, app: web.Application) -> None:
        for websocket in list(self.sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


def page(problem: str, status: int = 200) -> web.Response:
    """The login form, with `problem` above it."""
    note = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
    body = LOGIN_PAGE.replace("{problem}", note)
    headers = {"Retry-After": "5"} if status == 503 else None  # every 503 says when
    return web.Response(text=body, status=status, content_type="text/html", headers=headers)


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autogrocery: operator login</title>
<style>
body { background: #0c181f; color: #e0e0e0; font: 16px/1.4 monospace; display: flex;
       justify-content: center; align-items: center; min-height: 90vh; }
form { background: #12232d; padding: 2em; min-width: 18em; }
h1 { font-size: 1.2em; margin-top: 0; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: .3em 0 1em; padding: .5em; font: inherit; }
button { padding: .6em; font: inherit; background: #5e0ba7; color: #fff; border: 0; }
.problem { background: #7a1f1f; padding: .5em; }
</style></head>
<body><form method="post" action="/login">
<h1>autogrocery dashboard</h1>
{problem}
<label for="username">Operator</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form></body></html>
"""


async def serve(server: WebDashboard) -> int:
    """Serve until SIGINT or SIGTERM; says where, or why it cannot listen (status 2)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(await server._make_app(), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, server.host, server.port).start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"autogrocery: cannot listen on {server.host}:{server.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    print(
        f"autogrocery: the dashboard is served on {url}/ "
        f"(log in as an operator of {server.store_url})",
        flush=True,
    )
    log.info("dashboard served on %s for %s", url, server.store_url, extra={"url": url})
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0

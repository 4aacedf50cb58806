"""`autogrocery dashboard`: the dashboard attached to a running store over its HTTP API
and `/api/events` only, in a terminal (`--url`) or served to browsers (`--web`); or,
when a chain's head office answers at `--url`, the head office's dashboard over its
HTTP API.

What answers at the URL is asked first, in a bounded `GET /healthz` (`probe`): a head
office says `"role": "head-office"` there, a store says no role. In a terminal nothing
answering is one line, exit 2, before any password is asked for. A session of `--web`
asks too (the server in front may serve either); started by `run`, it is a store.

Where the operator's login comes from, first match wins:
- `--credentials-fd FD` (internal; how `autogrocery run` hands its own operator and truck
  logins to the dashboard process it starts): one JSON line on an inherited pipe,
  `{"operator": [user, password], "truck": [user, password]}`. Nothing shows in `ps` or
  in the environment, and the pipe is read once. The parent keeps its end open while
  the store runs, so end-of-file means the store is gone and the dashboard quits.
- `--user`, else `$AUTOGROCERY_DASHBOARD_USER`, else `admin`; the password from
  `$AUTOGROCERY_DASHBOARD_PASSWORD`, else `$AUTOGROCERY_ADMIN_PASSWORD` for `admin`,
  else a prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import orjson

from autogrocery.cli.command import Command, interactive, log_level, with_config

if TYPE_CHECKING:
    from autogrocery.client import Credentials
    from autogrocery.config import Config
    from autogrocery.probe import Kind
    from autogrocery.tui.app import DashboardApp
    from autogrocery.tui.chain.app import ChainApp

    AnyDashboard = DashboardApp | ChainApp  # the store's, or the head office's
    from autogrocery.tui.client import ApiClient

DASHBOARD_LOG_FILE = "dashboard.log"
PROBE_WITHIN = 3.0  # seconds a server has to answer /healthz before the dashboard starts
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_arguments(dashboard: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    dashboard.add_argument(
        "--url",
        help="the store's API, or a head office's (default: http://api.host:api.port from "
        "config); what answers there decides which dashboard opens",
    )
    dashboard.add_argument(
        "--user",
        help="operator username (default: $AUTOGROCERY_DASHBOARD_USER, else admin); the "
        "password comes from $AUTOGROCERY_DASHBOARD_PASSWORD, $AUTOGROCERY_ADMIN_PASSWORD "
        "for admin, or a prompt",
    )
    dashboard.add_argument(
        "--web",
        action="store_true",
        help="serve the dashboard to browsers (textual-serve), behind the operator login",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="with --web: the address to listen on (default 127.0.0.1, this machine only)",
    )
    dashboard.add_argument(
        "--port", type=int, default=8080, help="with --web: the port (default 8080; 0 = any)"
    )
    dashboard.add_argument("--credentials-fd", type=int, help=argparse.SUPPRESS)
    dashboard.add_argument("--served", action="store_true", help=argparse.SUPPRESS)


def attach(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.logs import configure_logging
    from autogrocery.probe import Kind

    url = (args.url or f"http://{config.api.host}:{config.api.port}").rstrip("/")
    if args.web:
        return _web(config, args, url)
    if not interactive() and not args.served:
        print("autogrocery: the dashboard needs an interactive terminal", file=sys.stderr)
        return 2
    head_office = False
    if args.credentials_fd is None and not args.served:
        kind, problem = identify(url)
        if problem is not None:
            print(f"autogrocery: {problem}", file=sys.stderr)  # before a password is asked for
            return 2
        head_office = kind is Kind.HEAD_OFFICE
    elif args.served:  # a browser's session: the server in front serves either
        head_office = identify(url)[0] is Kind.HEAD_OFFICE
    try:
        operator, truck = logins(args, url)
    except ValueError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    log_path = config.data_path / DASHBOARD_LOG_FILE
    log_path.parent.mkdir(parents=True, exist_ok=True)
    level = log_level(config, args)
    configure_logging(level, config.log.format, file=log_path, rotation=config.log)
    lifeline = args.credentials_fd
    if lifeline is not None:
        # Started by `run`, which owns Ctrl-C: it stops us (SIGTERM, or the lifeline
        # closes). A KeyboardInterrupt here while Textual starts could leave the terminal
        # raw; once the dashboard runs, Ctrl-C is a key.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by `run`
    try:
        return asyncio.run(
            _attach(url, operator, truck, lifeline, settings_path(), head_office=head_office)
        )
    except KeyboardInterrupt:
        return 130
    finally:
        if not args.served:  # a served session's stdout is the browser's stream
            print(f"autogrocery: the dashboard's log is in {log_path}")


def _web(config: Config, args: argparse.Namespace, url: str) -> int:
    """`--web`: the dashboard served to browsers (webdash.py), one `dashboard --served`
    process per session."""
    from autogrocery.logs import configure_logging
    from autogrocery.webdash import WebDashboard, serve

    level = log_level(config, args)
    configure_logging(level, config.log.format)  # as the store's: JSON lines by default
    argv = [sys.executable, "-m", "autogrocery", "dashboard", "--served", "--url", url]
    argv += ["--data-dir", str(config.data_path)]
    if args.config:
        argv += ["--config", args.config]
    if args.host not in LOOPBACK:
        print(
            f"autogrocery: serving on {args.host}: logins cross the network in clear text; "
            "put HTTPS in front of it",
            file=sys.stderr,
        )
    try:
        return asyncio.run(serve(WebDashboard(url, argv, args.host, args.port)))
    except KeyboardInterrupt:
        return 130


def identify(url: str) -> tuple[Kind, str | None]:
    """What answers at `url`, from a quick bounded `GET /healthz`, and why no dashboard
    can be attached there (None when a store or a head office answers, even one that
    says it is unhealthy)."""
    from autogrocery.probe import Kind, probe

    answer = probe(url, PROBE_WITHIN)
    if answer.kind in (Kind.STORE, Kind.HEAD_OFFICE):
        return answer.kind, None
    if answer.kind is Kind.NOTHING:
        return answer.kind, (
            f"nothing answers at {url} ({answer.detail}): is the store running? Start it "
            "with `autogrocery run` (a head office with `autogrocery central run`), or give "
            "its address with --url"
        )
    return answer.kind, (
        f"{url} does not answer as an autogrocery store or head office ({answer.detail}); "
        "check --url"
    )


def logins(args: argparse.Namespace, url: str) -> tuple[Credentials, Credentials | None]:
    from autogrocery.client import Credentials

    if args.credentials_fd is not None:
        operator, truck = read_credentials(args.credentials_fd)
        return operator, truck or env_truck()
    env = os.environ
    user = args.user or env.get("AUTOGROCERY_DASHBOARD_USER") or "admin"
    password = env.get("AUTOGROCERY_DASHBOARD_PASSWORD") or (
        env.get("AUTOGROCERY_ADMIN_PASSWORD", "") if user == "admin" else ""
    )
    if not password:
        if args.served:
            raise ValueError("no operator password for the served dashboard")
        password = getpass.getpass(f"password for operator {user} at {url}: ")
    return Credentials(user, password), env_truck()


def env_truck() -> Credentials | None:
    """The truck login for restock manifests, from the environment (None: the dashboard
    creates one for its session on the first manifest)."""
    from autogrocery.client import Credentials

    env = os.environ
    user, password = (
        env.get("AUTOGROCERY_DASHBOARD_TRUCK_USER"),
        env.get("AUTOGROCERY_DASHBOARD_TRUCK_PASSWORD"),
    )
    if user and password:
        return Credentials(user, password)
    if env.get("AUTOGROCERY_TRUCK_PASSWORD"):
        return Credentials("truck-1", env["AUTOGROCERY_TRUCK_PASSWORD"])
    return None


def read_credentials(fd: int) -> tuple[Credentials, Credentials | None]:
    """One JSON line from the inherited pipe `fd` (the fd stays open: the lifeline)."""
    from autogrocery.client import Credentials

    line = b""
    while not line.endswith(b"\n"):
        try:
            chunk = os.read(fd, 4096)
        except OSError as exc:
            raise ValueError(f"--credentials-fd {fd}: {exc.strerror}") from exc
        if not chunk:
            raise ValueError(f"--credentials-fd {fd}: closed before the credentials")
        line += chunk
    try:
        data = orjson.loads(line)
        operator = Credentials(*data["operator"])
        truck = Credentials(*data["truck"]) if data.get("truck") else None
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"--credentials-fd {fd}: not the credentials") from exc
    return operator, truck


def settings_path() -> Path:
    """Where the dashboard keeps what the operator chose (the theme)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autogrocery" / "dashboard.json"


async def _attach(
    url: str,
    operator: Credentials,
    truck: Credentials | None,
    lifeline: int | None,
    settings: Path,
    *,
    head_office: bool = False,
) -> int:
    from autogrocery.client import ApiError, Disconnected
    from autogrocery.tui.client import ApiClient

    client: ApiClient
    if head_office:
        from autogrocery.tui.chain.client import ChainClient

        client = ChainClient(url, operator)
    else:
        client = ApiClient(url, operator, truck)
    async with client:
        try:
            await client.call("GET", "/api/auth/me")
        except ApiError as exc:  # a wrong password will not get better by retrying
            print(f"autogrocery: {url}: {exc}", file=sys.stderr)
            return 2
        except Disconnected:
            pass  # the store may be restarting: the dashboard shows it and reconnects
        app = _app(client, settings, head_office=head_office)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):  # the store stops us, or the tty closed
            loop.add_signal_handler(sig, app.quit_when_ready)
        if lifeline is not None:
            loop.add_reader(lifeline, _gone, lifeline, app)
        try:
            await app.run_async()
        finally:
            if lifeline is not None:
                loop.remove_reader(lifeline)
    return 0


def _app(client: ApiClient, settings: Path, *, head_office: bool) -> AnyDashboard:
    """The store's dashboard, or the head office's."""
    if head_office:
        from autogrocery.tui.chain.app import ChainApp
        from autogrocery.tui.chain.client import ChainClient

        return ChainApp(cast(ChainClient, client), settings_path=settings)
    from autogrocery.tui.app import DashboardApp

    return DashboardApp(client, settings_path=settings)


def _gone(fd: int, app: AnyDashboard) -> None:
    """The store's end of the lifeline: readable means closed (it writes nothing more)."""
    asyncio.get_running_loop().remove_reader(fd)
    app.quit_when_ready()


COMMANDS = (
    Command(
        "dashboard",
        "attach the dashboard to a running store, or to a chain's head office",
        add_arguments,
        with_config(attach),
    ),
)

"""`autogrocery run` with the dashboard (and the simulator), and `autogrocery dashboard`.

- `run` in an interactive terminal (stdin and stdout are TTYs, no `--headless`) starts
  the store and its API, then the dashboard in the same process and on the same loop,
  logged in as the store's own `dashboard` operator. Logs go to
  `<data dir>/autogrocery.log` while the dashboard is up; the path is printed on exit.
  Quitting the dashboard stops the store. `--simulate [RATE]` is on (5 orders/s) here.
- `run --headless --simulate RATE` is the headless server plus the simulator.
- `dashboard --url URL` attaches to a running store over HTTP + WebSocket only.

The in-process operator: `ensure_accounts` creates a `dashboard` operator and a
`dashboard-truck` truck (used by the dashboard's restock form and the simulated trucks)
through the API's own `Auth` object, with random passwords kept in
`<data dir>/dashboard-accounts.json` (mode 0600), so they survive restarts and are
never printed or logged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
import logging
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from autogrocery.config import Config
    from autogrocery.simulate import Login

log = logging.getLogger("autogrocery")

COMMANDS = ("dashboard",)
DEFAULT_RATE = 5.0
ACCOUNTS_FILE = "dashboard-accounts.json"
LOG_FILE = "autogrocery.log"
DASHBOARD_LOG_FILE = "dashboard.log"


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    simulate = run.add_mutually_exclusive_group()
    simulate.add_argument(
        "--simulate",
        nargs="?",
        type=float,
        const=DEFAULT_RATE,
        metavar="RATE",
        help="simulated fridges and trucks order and restock over the API at RATE orders/s "
        f"(default {DEFAULT_RATE:g}); on by default with the dashboard, off when headless",
    )
    simulate.add_argument(
        "--no-simulate", dest="simulate", action="store_const", const=0.0, help="no simulator"
    )


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    dashboard = commands.add_parser(
        "dashboard", parents=[common], help="attach the dashboard to a running store"
    )
    dashboard.add_argument(
        "--url", help="the store's API (default: http://api.host:api.port from config)"
    )
    dashboard.add_argument(
        "--user",
        help="operator username (default: $AUTOGROCERY_DASHBOARD_USER, else admin); the "
        "password comes from $AUTOGROCERY_DASHBOARD_PASSWORD, $AUTOGROCERY_ADMIN_PASSWORD "
        "for admin, or a prompt",
    )


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def takes_over(args: argparse.Namespace) -> bool:
    """Whether `run` is this module's: with the dashboard, or with the simulator."""
    return (not args.headless and interactive()) or bool(getattr(args, "simulate", None))


# --- run ----------------------------------------------------------------------------


def run(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.domain.catalog import CatalogError
    from autogrocery.logs import configure_logging
    from autogrocery.transports.zmqio import TransportError

    with_dashboard = not args.headless and interactive()
    rate = args.simulate if args.simulate is not None else DEFAULT_RATE if with_dashboard else 0.0
    level = "DEBUG" if args.verbose else "WARNING" if args.quiet else config.log.level
    log_path = config.data_path / LOG_FILE if with_dashboard else None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(level, config.log.format, file=log_path)
    try:
        return asyncio.run(_serve(config, rate, with_dashboard))
    except (CatalogError, TransportError) as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if log_path is not None:
            print(f"autogrocery: the log is in {log_path}")


async def _serve(config: Config, rate: float, with_dashboard: bool) -> int:
    import pykka.debug

    from autogrocery import __version__
    from autogrocery.api import create_app, serve
    from autogrocery.app import start_system

    loop = asyncio.get_running_loop()
    signal.signal(signal.SIGUSR1, pykka.debug.log_thread_tracebacks)
    held = io.StringIO()  # what the store prints at start (new passwords), shown on exit
    with contextlib.redirect_stdout(held) if with_dashboard else contextlib.nullcontext():
        system = await start_system(config)
        app = create_app(config, system)
        try:
            runner, url = await serve(app, config.api.host, config.api.port)
        except OSError as exc:
            await system.stop()
            print(
                f"autogrocery: cannot listen on {config.api.host}:{config.api.port}: "
                f"{exc.strerror}",
                file=sys.stderr,
            )
            return 2
    log.info(
        "autogrocery %s running; API on %s; data in %s",
        __version__,
        url,
        config.data_path,
        extra={"url": url},
    )
    simulator = None
    try:
        accounts = await ensure_accounts(app, config.data_path)
        if rate > 0:
            simulator = _start_simulator(config, url, accounts, rate, with_dashboard)
        if with_dashboard:
            await _dashboard(url, accounts)
        else:
            stop = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        log.info("shutting down")
    finally:
        if simulator is not None:
            await loop.run_in_executor(None, simulator.stop)
        await runner.cleanup()
        await system.stop()
        sys.stdout.write(held.getvalue())
    return 0


async def _dashboard(url: str, accounts: Accounts) -> None:
    from autogrocery.tui.app import DashboardApp
    from autogrocery.tui.client import ApiClient, Credentials

    operator, truck = accounts.operator, accounts.truck
    async with ApiClient(
        url,
        Credentials(operator.username, operator.password),
        Credentials(truck.username, truck.password),
    ) as client:
        dashboard = DashboardApp(client)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # quit the dashboard, then stop the store
            loop.add_signal_handler(sig, dashboard.exit)
        await dashboard.run_async()


def _start_simulator(
    config: Config, url: str, accounts: Accounts, rate: float, with_dashboard: bool
) -> Any:
    from autogrocery.simulate import SimulatorProcess

    process = SimulatorProcess(
        url,
        accounts.operator,
        accounts.truck,
        accounts.fridge_password,
        rate,
        log_file=config.data_path / LOG_FILE if with_dashboard else None,
        log_level=logging.getLevelName(logging.getLogger().level),
        log_format=config.log.format,
    )
    process.start()
    log.info("simulating %.1f orders/s", rate)
    return process


# --- the in-process accounts --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accounts:
    operator: Login
    truck: Login
    fridge_password: str


async def ensure_accounts(app: web.Application, data_dir: Path) -> Accounts:
    """The dashboard's operator and truck accounts (created on first use) and the
    simulated fridges' password, kept in the data dir with the other secrets."""
    import orjson

    from autogrocery.api.context import STATE
    from autogrocery.simulate import Login

    auth = app[STATE].auth
    path = data_dir / ACCOUNTS_FILE
    loop = asyncio.get_running_loop()
    saved: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            saved = orjson.loads(await loop.run_in_executor(None, path.read_bytes))
    logins: dict[str, Login] = {}
    changed = False
    for role, base in (("operator", "dashboard"), ("truck", "dashboard-truck")):
        entry = saved.get(role)
        if isinstance(entry, list) and await auth.tables.account(entry[0]) is not None:
            logins[role] = Login(entry[0], entry[1])
            continue
        username = entry[0] if isinstance(entry, list) else base
        if await auth.tables.account(username) is not None:  # ours, but its password is lost
            username = f"{base}-{secrets.token_hex(3)}"
        login = Login(username, secrets.token_urlsafe(18))
        await auth.create_account(login.username, login.password, role)
        logins[role] = login
        changed = True
    fridge_password = str(saved.get("fridge_password") or secrets.token_urlsafe(12))
    if changed or "fridge_password" not in saved:
        data = {
            "operator": [logins["operator"].username, logins["operator"].password],
            "truck": [logins["truck"].username, logins["truck"].password],
            "fridge_password": fridge_password,
        }
        await loop.run_in_executor(None, _write_secret, path, orjson.dumps(data))
    return Accounts(logins["operator"], logins["truck"], fridge_password)


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)


# --- dashboard --url ----------------------------------------------------------------


def attach(config: Config, args: argparse.Namespace) -> int:
    from autogrocery.logs import configure_logging
    from autogrocery.tui.client import Credentials

    if not interactive():
        print("autogrocery: the dashboard needs an interactive terminal", file=sys.stderr)
        return 2
    url = (args.url or f"http://{config.api.host}:{config.api.port}").rstrip("/")
    env = os.environ
    user = args.user or env.get("AUTOGROCERY_DASHBOARD_USER") or "admin"
    password = env.get("AUTOGROCERY_DASHBOARD_PASSWORD") or (
        env.get("AUTOGROCERY_ADMIN_PASSWORD", "") if user == "admin" else ""
    )
    if not password:
        password = getpass.getpass(f"password for operator {user} at {url}: ")
    truck = None
    if env.get("AUTOGROCERY_DASHBOARD_TRUCK_USER") and env.get(
        "AUTOGROCERY_DASHBOARD_TRUCK_PASSWORD"
    ):
        truck = Credentials(
            env["AUTOGROCERY_DASHBOARD_TRUCK_USER"], env["AUTOGROCERY_DASHBOARD_TRUCK_PASSWORD"]
        )
    elif env.get("AUTOGROCERY_TRUCK_PASSWORD"):
        truck = Credentials("truck-1", env["AUTOGROCERY_TRUCK_PASSWORD"])
    log_path = config.data_path / DASHBOARD_LOG_FILE
    log_path.parent.mkdir(parents=True, exist_ok=True)
    level = "DEBUG" if args.verbose else "WARNING" if args.quiet else config.log.level
    configure_logging(level, config.log.format, file=log_path)
    try:
        return asyncio.run(_attach(url, Credentials(user, password), truck))
    except KeyboardInterrupt:
        return 130
    finally:
        print(f"autogrocery: the dashboard's log is in {log_path}")


async def _attach(url: str, operator: Any, truck: Any) -> int:
    from autogrocery.tui.app import DashboardApp
    from autogrocery.tui.client import ApiClient, ApiError, Disconnected

    async with ApiClient(url, operator, truck) as client:
        try:
            await client.call("GET", "/api/auth/me")
        except ApiError as exc:  # a wrong password will not get better by retrying
            print(f"autogrocery: {url}: {exc}", file=sys.stderr)
            return 2
        except Disconnected:
            pass  # the store may be restarting: the dashboard shows it and reconnects
        await DashboardApp(client).run_async()
    return 0

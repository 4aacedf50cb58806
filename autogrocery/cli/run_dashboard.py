"""`autogrocery run` with the dashboard (and the simulator); `run.py` hands over here.

- `run` in an interactive terminal (stdin and stdout are TTYs, no `--headless`) is two
  processes of the same program: this one runs the store and its API, headless, with
  its logs in `<data dir>/autogrocery.log` (the path is printed on exit); the other is
  `autogrocery dashboard --url URL` on the terminal, attached over HTTP and
  `/api/events` like any remote dashboard. So Textual's drawing and garbage never stall
  the loop that serves devices. Quitting the dashboard (q, Ctrl-C) stops the store;
  SIGINT or SIGTERM to the store stops the dashboard first. `--simulate [RATE]` is on
  (5 orders/s) here.
- `run --headless --simulate RATE` is the headless server plus the simulator.

The dashboard's login: `ensure_accounts` creates a `dashboard` operator and a
`dashboard-truck` truck (used by the dashboard's restock form and the simulated trucks)
through the API's own `Auth` object, with random passwords kept in
`<data dir>/dashboard-accounts.json` (mode 0600), so they survive restarts and are
never printed or logged. They reach the dashboard process on an inherited pipe (see
`cli/dashboard.py`), never on its command line or in its environment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.cli.command import interactive, log_level
from autogrocery.loop import run as run_loop

if TYPE_CHECKING:
    import socket

    from aiohttp import web

    from autogrocery.cli.run_start import Started
    from autogrocery.client import Credentials
    from autogrocery.config import Config
    from autogrocery.service.system import System
    from autogrocery.simulate_process import SimulatorProcess

log = logging.getLogger("autogrocery")

DEFAULT_RATE = 5.0
ACCOUNTS_FILE = "dashboard-accounts.json"
LOG_FILE = "autogrocery.log"
SIMULATOR_LOG_FILE = "simulator.log"
SUMMARY_INTERVAL = 60.0  # seconds between the store's summary lines in the log
# With the dashboard up, the operator watches orders there; the log file keeps what
# they would read later (start, stop, robots, warnings, a summary a minute), not a
# line per request and per order state change (-v brings those back).
CHATTY = ("autogrocery.access", "autogrocery.actors.ordering")
DASHBOARD_STOP_TIMEOUT = 10.0  # seconds for the dashboard to quit when the store stops


def takes_over(args: argparse.Namespace) -> bool:
    """Whether `run` is this module's: with the dashboard, or with the simulator."""
    return (not args.headless and interactive()) or bool(getattr(args, "simulate", None))


# --- run ----------------------------------------------------------------------------


def run(config: Config, args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    """`run` with the dashboard or the simulator, serving on `sockets` (bound, and the
    data dir checked, by `run_start.prepare`)."""
    from autogrocery.cli.run_start import StartupError
    from autogrocery.logs import configure_logging

    with_dashboard = not args.headless and interactive()
    rate = args.simulate if args.simulate is not None else DEFAULT_RATE if with_dashboard else 0.0
    level = log_level(config, args)
    log_path = config.data_path / LOG_FILE if with_dashboard else None
    configure_logging(level, config.log.format, file=log_path, rotation=config.log)
    if with_dashboard and not args.verbose:
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return run_loop(_serve(config, args, sockets, rate, with_dashboard))
    except StartupError as exc:
        print(f"autogrocery: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if log_path is not None:
            print(f"autogrocery: the log is in {log_path}")


async def _serve(
    config: Config,
    args: argparse.Namespace,
    sockets: list[socket.socket],
    rate: float,
    with_dashboard: bool,
) -> int:
    from autogrocery.cli.run_start import serving

    # New accounts' passwords are printed on stderr as the API starts: before the
    # dashboard takes the terminal, so they stay above it (and survive a kill -9).
    async with serving(config, sockets, init=args.init) as (store, stop):
        return await _running(config, args, store, stop, rate, with_dashboard)


async def _running(
    config: Config,
    args: argparse.Namespace,
    store: Started,
    stop: asyncio.Event,
    rate: float,
    with_dashboard: bool,
) -> int:
    """The simulator and the dashboard beside the running store, until `stop` is set or
    the dashboard quits."""
    simulator = None
    code = 0
    summaries = asyncio.create_task(_summaries(store.system)) if with_dashboard else None
    try:
        accounts = await ensure_accounts(store.app, config.data_path)
        # A Ctrl-C during the start stops it here: nothing more is started to be stopped.
        if rate > 0 and not stop.is_set():
            simulator = _start_simulator(config, store.url, accounts, rate, with_dashboard)
        if with_dashboard and not stop.is_set():
            code = await _dashboard(config, args, local(store.url), accounts, stop)
        else:
            await stop.wait()
        log.info("shutting down")
    finally:
        if summaries is not None:
            summaries.cancel()
        if simulator is not None:
            await asyncio.get_running_loop().run_in_executor(None, simulator.stop)
    return code


async def _summaries(system: System, every: float = SUMMARY_INTERVAL) -> None:
    """One log line a minute on what the store did, for the operator's log file."""
    while True:
        await asyncio.sleep(every)
        try:
            analytics = await system.analytics()
            robots = await system.robots()
        except Exception:  # the store is stopping, or analytics restarts: next minute
            log.debug("summary skipped", exc_info=True)
            continue
        customer, restock = analytics["customer"], analytics["restock"]
        online = sum(robot.state != "offline" for robot in robots)
        latency = customer["latency_ms"]
        log.info(
            "last minute: %d orders and %d restocks finished; all time: %d orders "
            "completed, %d failed, p50 %s ms, p99 %s ms; %d/%d robots online",
            customer["per_minute"],
            restock["per_minute"],
            customer["completed"],
            customer["failed"],
            _ms(latency["p50"]),
            _ms(latency["p99"]),
            online,
            len(robots),
            extra={"summary": {"customer": customer, "restock": restock}},
        )


def _ms(latency: float | None) -> int | str:
    return round(latency) if latency is not None else "-"


def local(url: str) -> str:
    """The API's URL as a process on this machine reaches it (not 0.0.0.0 or ::)."""
    for wildcard, loopback in (("//0.0.0.0:", "//127.0.0.1:"), ("//:::", "//[::1]:")):
        url = url.replace(wildcard, loopback)
    return url


def dashboard_argv(config: Config, args: argparse.Namespace, url: str, fd: int) -> list[str]:
    """`autogrocery dashboard --url URL …` with this run's settings; no secret in it."""
    argv = [sys.executable, "-m", "autogrocery", "dashboard", "--url", url]
    argv += ["--data-dir", str(config.data_path), "--credentials-fd", str(fd)]
    if args.config:
        argv += ["--config", args.config]
    for override in args.overrides:
        argv += ["-o", override]
    argv += ["-v"] if args.verbose else ["-q"] if args.quiet else []
    return argv


async def _dashboard(
    config: Config, args: argparse.Namespace, url: str, accounts: Accounts, stop: asyncio.Event
) -> int:
    """The dashboard process on this terminal, until it quits or `stop` is set. Its
    exit code is `run`'s."""
    import orjson

    operator, truck = accounts.operator, accounts.truck
    login = {
        "operator": [operator.username, operator.password],
        "truck": [truck.username, truck.password],
    }
    theirs, ours = os.pipe()
    loop = asyncio.get_running_loop()
    try:
        child = await loop.run_in_executor(
            None, spawn_quiet, dashboard_argv(config, args, url, theirs), theirs
        )
    finally:
        os.close(theirs)
    # A few hundred bytes: the pipe takes them without blocking. `ours` stays open until
    # the store stops: the dashboard quits when it reads end-of-file.
    try:
        with contextlib.suppress(BrokenPipeError):  # it died already: its exit code says why
            os.write(ours, orjson.dumps(login) + b"\n")
        log.info("dashboard started (pid %d)", child.pid)
        exited: asyncio.Future[int] = loop.run_in_executor(None, child.wait)
        stopped = asyncio.create_task(stop.wait())
        either: set[asyncio.Future[int] | asyncio.Task[bool]] = {exited, stopped}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not exited.done():
            log.info("stopping the dashboard")
            child.terminate()
            try:
                await asyncio.wait_for(asyncio.shield(exited), DASHBOARD_STOP_TIMEOUT)
            except TimeoutError:
                child.kill()
        code = await exited
    finally:
        os.close(ours)
    # 130 or SIGINT: a Ctrl-C reached it as it started (before Ctrl-C was a key); it
    # reached the store too, which stops.
    if code not in (0, 130, -signal.SIGINT, -signal.SIGTERM):
        log.error("the dashboard exited with %d", code)
        return code if code > 0 else 1
    return 0


def spawn_quiet(argv: list[str], fd: int) -> subprocess.Popen[bytes]:
    """Start `argv` (passing it `fd`) with SIGINT blocked, for a child that unblocks it
    once it ignores it. Ctrl-C reaches every process on the terminal, and one while the
    child still imports was a KeyboardInterrupt traceback before its code could ignore
    it. The blocked mask survives exec through subprocess (asyncio's spawn on uvloop,
    libuv's, resets it in the child), so this runs in a worker thread of its own."""
    masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(argv, pass_fds=(fd,))  # noqa: S603 (our own command)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)


def _start_simulator(
    config: Config, url: str, accounts: Accounts, rate: float, with_dashboard: bool
) -> SimulatorProcess:
    from autogrocery.simulate import Simulation
    from autogrocery.simulate_process import SimulatorProcess

    simulation = Simulation(
        url,
        accounts.operator,
        accounts.truck,
        accounts.fridge_password,
        rate,
        shelf_lives=_shelf_lives(config),
        time_zone=config.stock.time_zone,
    )
    process = SimulatorProcess(
        simulation,
        log_file=config.data_path / SIMULATOR_LOG_FILE if with_dashboard else None,
        log_level=logging.getLevelName(logging.getLogger().level),
        log_format=config.log.format,
        rotation=config.log,
    )
    process.start()
    log.info("simulating %.1f orders/s", rate)
    return process


# --- the in-process accounts --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accounts:
    operator: Credentials
    truck: Credentials
    fridge_password: str


async def ensure_accounts(app: web.Application, data_dir: Path) -> Accounts:
    """The dashboard's operator and truck accounts (created on first use) and the
    simulated fridges' password, kept in the data dir with the other secrets."""
    import orjson

    from autogrocery.api.local_accounts import LocalAccounts
    from autogrocery.client import Credentials

    accounts = LocalAccounts(app)
    path = data_dir / ACCOUNTS_FILE
    loop = asyncio.get_running_loop()
    saved: dict[str, object] = {}
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            saved = orjson.loads(await loop.run_in_executor(None, path.read_bytes))
    logins: dict[str, Credentials] = {}
    changed = False
    for role, base in (("operator", "dashboard"), ("truck", "dashboard-truck")):
        entry = saved.get(role)
        if isinstance(entry, list) and await accounts.exists(entry[0]):
            logins[role] = Credentials(entry[0], entry[1])
            continue
        username = entry[0] if isinstance(entry, list) else base
        if await accounts.exists(username):  # ours, but its password is lost
            username = f"{base}-{secrets.token_hex(3)}"
        login = Credentials(username, secrets.token_urlsafe(18))
        await accounts.create(login.username, login.password, role)
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


def _shelf_lives(config: Config) -> dict[str, int]:
    """Days each fresh product of the catalog keeps (the simulator's trucks date them)."""
    from autogrocery.domain.catalog import load_catalog

    return {
        product.sku: product.shelf_life_days
        for product in load_catalog(config.catalog_file)
        if product.shelf_life_days
    }

"""Starting the store for `autogrocery run`: fail first, in one line.

What can be checked before the store opens is checked first: the API's address is
bound before anything else (a busy port is reported before accounts are made or robots
join), then the data dir and the database file are checked (exists or can be made, is
writable, is a readable SQLite database). Every start-up failure, these and whatever
the store's own start raises, is a `StartupError`: one line naming the path or the
address and the cause, which `run` prints before exiting with status 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autogrocery.store.db import DB_NAME

if TYPE_CHECKING:
    import socket

    from aiohttp import web

    from autogrocery.chain.link import ChainLink
    from autogrocery.config import Config
    from autogrocery.replicate.litestream import Litestream
    from autogrocery.service.system import System

log = logging.getLogger(__name__)

BROKEN = "restore it from a backup, or move it away to start an empty store"


class StartupError(Exception):
    """Why the store cannot start: one line naming the path or address, and the cause."""


def prepare(config: Config) -> list[socket.socket]:
    """Bind the API's address, then check the data dir; returns the bound sockets."""
    from autogrocery.api import bind

    host, port = config.api.host, config.api.port
    try:
        sockets = bind(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"cannot listen on {host}:{port}: the port is taken ({_reason(exc)}); "
                + taken(host, port)
            ) from None
        raise StartupError(f"cannot listen on {host}:{port}: {_reason(exc)}") from None
    try:
        check_data_dir(config.data_path)
        check_csv(config.csv_file)
        check_chain(config)
        check_replicate(config)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def taken(host: str, port: int) -> str:
    """Who holds the port, as a quick `GET /healthz` finds (a second `run` on the
    default port is most often the user's own store), and what to do instead."""
    from autogrocery.probe import Kind, probe, url_for

    url = url_for(host, port)
    answer = probe(url)
    elsewhere = "start this one on another port with --port N (--port 0: any free port)"
    if answer.kind is Kind.STORE:
        return (
            f"an autogrocery store answers at {url} (your own, running already?): attach "
            f"to it with `autogrocery dashboard --url {url}`, or {elsewhere}"
        )
    if answer.kind is Kind.HEAD_OFFICE:
        return (
            f"a chain's head office answers at {url}: see it with `autogrocery dashboard "
            f"--url {url}`, or {elsewhere}"
        )
    if answer.kind is Kind.NOTHING:
        return f"nothing answers at {url} ({answer.detail}); {elsewhere}"
    return f"{url} does not answer as an autogrocery store ({answer.detail}); {elsewhere}"


def check_chain(config: Config) -> None:
    """A store in a chain: its join file reads and a nats-server can run it."""
    if config.join_file is None:
        return
    from autogrocery.chain.joinfile import JoinFileError
    from autogrocery.chain.link import check
    from autogrocery.chain.natsd import NatsError

    try:
        check(config)
    except (JoinFileError, NatsError) as exc:
        raise StartupError(f"chain: {exc}") from None


def check_replicate(config: Config) -> None:
    """A store that replicates: Litestream can run, and a directory replica is not in the
    data dir (it would die with the disk it is meant to outlive)."""
    url = config.replicate.replica_url()
    if url is None:
        return
    from autogrocery.replicate.litestream import ReplicationError, find_litestream

    try:
        find_litestream(config.replicate.litestream or None)
    except ReplicationError as exc:
        raise StartupError(f"replicate: {exc}") from None
    if url.startswith("file://"):
        replica = Path(url.removeprefix("file://")).resolve()
        if replica.is_relative_to(config.data_path.resolve()):
            raise StartupError(
                f"replicate: the replica {replica} is inside the data directory "
                f"{config.data_path}: it would be lost with it; put it on another disk or host"
            )


def check_csv(path: Path) -> None:
    """The analytics CSV can be appended to (or made); creates nothing."""
    from autogrocery.actors.analytics_storage import check_csv_path

    try:
        check_csv_path(path)
    except OSError as exc:
        raise StartupError(
            f"the analytics CSV {path} cannot be written (analytics.csv_path): {_reason(exc)}"
        ) from None


def check_data_dir(data: Path) -> None:
    """The data dir exists (or is made), is writable, and its database (if any) opens
    for writing. Raises StartupError; writes nothing that lasts."""
    try:
        data.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError(f"the data directory {data} is a file, not a directory") from None
    except OSError as exc:
        raise StartupError(f"cannot create the data directory {data}: {_reason(exc)}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=data, prefix=".write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StartupError(f"the data directory {data} is not writable: {_reason(exc)}") from None
    db = data / DB_NAME
    for path in (db, db.with_name(DB_NAME + "-wal"), db.with_name(DB_NAME + "-shm")):
        if not path.exists():
            continue
        if not path.is_file():
            raise StartupError(f"{path} is not a file")
        try:
            os.close(os.open(path, os.O_RDWR))
        except OSError as exc:
            if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
                raise StartupError(f"{path} is read-only: {_reason(exc)}") from None
            raise StartupError(f"cannot open {path}: {_reason(exc)}") from None
    if db.exists():
        check_database(db)


def check_database(db: Path) -> None:
    """The file is a SQLite database whose header and schema read, and which takes a
    write (one that is rolled back). Raises StartupError."""
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=rw", uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        raise StartupError(f"cannot open {db}: {exc}") from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        if _code(exc) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            raise StartupError(f"{db} is not a usable SQLite database ({exc}): {BROKEN}") from None
        raise StartupError(f"cannot read {db}: {exc}") from None
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {int(version)}")
    except sqlite3.Error as exc:
        if _code(exc) == sqlite3.SQLITE_READONLY:
            raise StartupError(f"{db} is read-only: {exc}") from None
        raise StartupError(f"cannot write to {db}: {exc}") from None
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


@dataclass(frozen=True, slots=True)
class Started:
    system: System
    app: web.Application
    url: str


@contextlib.asynccontextmanager
async def started(
    config: Config, sockets: list[socket.socket], *, init: bool = False
) -> AsyncIterator[Started]:
    """The store and its API serving on `sockets` (from `prepare`), until the block
    ends; then the API stops first, the store second. A failure to start is a
    StartupError. `init`: start an empty store where the database was lost."""
    from autogrocery.api import create_app, serve
    from autogrocery.api.serving import collection_paused
    from autogrocery.wiring import start_system

    with collection_paused():  # until `serve` has frozen the start's heap
        try:
            system = await start_system(config, init=init)
        except Exception as exc:
            for sock in sockets:
                sock.close()
            raise StartupError(describe(exc, config)) from exc
        link = replication = None
        try:
            replication = await start_replication(config, system)
            link = await join_chain(config, system)
            app = create_app(config, system)
            runner, url = await serve(app, sockets=sockets)
        except BaseException as exc:
            if link is not None:
                await link.stop()
            await system.stop()
            if replication is not None:
                await asyncio.get_running_loop().run_in_executor(None, replication.stop)
            for sock in sockets:
                sock.close()
            if isinstance(exc, Exception):
                raise StartupError(describe(exc, config)) from exc
            raise
    try:
        yield Started(system, app, url)
    finally:
        await runner.cleanup()  # stop accepting, finish requests, close WebSockets
        if link is not None:
            await link.stop()
        await system.stop()
        if replication is not None:  # last: it ships the store's last commits, then stops
            await asyncio.get_running_loop().run_in_executor(None, replication.stop)


async def start_replication(config: Config, system: System) -> Litestream | None:
    """With [replicate]: Litestream replicating the store's database, in charge of its
    checkpoints (replicate/litestream.py); its state on /readyz and /metrics."""
    url = config.replicate.replica_url()
    if url is None:
        return None
    from autogrocery.domain.records import ReplicationStatus
    from autogrocery.replicate.litestream import Litestream, Replica, find_litestream

    r = config.replicate
    data = config.data_path.resolve()
    replica = Replica(find_litestream(r.litestream or None), data / DB_NAME, url, r.sync_interval)
    litestream = Litestream(replica, data / "litestream", r.lag_warning)
    system.hand_checkpoints_to(litestream.in_charge)  # before it starts: it must be alone
    await asyncio.get_running_loop().run_in_executor(None, litestream.start)
    system.replication = lambda: ReplicationStatus(
        url, litestream.running, litestream.lag(), litestream.restarts, litestream.last_error
    )
    log.info("replicating %s to %s (litestream pid %s)", replica.db, url, litestream.pid)
    return litestream


async def join_chain(config: Config, system: System) -> ChainLink | None:
    """A store in a chain starts its leaf node and its relay (docs/chain.md)."""
    if config.join_file is None:
        return None
    from autogrocery.chain.link import ChainLink, check

    joining = check(config)
    return None if joining is None else await ChainLink.start(config, system, joining)


@contextlib.asynccontextmanager
async def serving(
    config: Config, sockets: list[socket.socket], *, init: bool = False
) -> AsyncIterator[tuple[Started, asyncio.Event]]:
    """`started` as `run` serves it: SIGINT, SIGTERM and SIGHUP (its terminal closed,
    as when a tmux window goes) set the event it yields (the caller stops when it is
    set), SIGUSR1 logs every thread's stack, and one line says where the store runs."""
    import pykka.debug

    from autogrocery import __version__

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    signal.signal(signal.SIGUSR1, pykka.debug.log_thread_tracebacks)
    async with started(config, sockets, init=init) as store:
        log.info(
            "autogrocery %s running; API on %s; data in %s",
            __version__,
            store.url,
            config.data_path,
            extra={"url": store.url},
        )
        yield store, stop


def describe(exc: BaseException, config: Config) -> str:
    """One line for a failure of the store's own start."""
    log.debug("the store failed to start", exc_info=exc)
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.filename}: {_reason(exc)}"
    elif isinstance(exc, OSError):
        text = _reason(exc)
    elif isinstance(exc, sqlite3.Error):
        text = f"{config.data_path / DB_NAME}: {exc}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code (SQLITE_READONLY, SQLITE_CORRUPT, ...)."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)

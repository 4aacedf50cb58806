"""The head office running: the hub nats-server, the chain worker and the HTTP API,
started in that order and stopped in reverse (the API stops taking requests, the
worker finishes its batch and drains its NATS links, the hub flushes JetStream).

Every start-up failure is a `StartupError`: one line naming the path or key and the
cause, which `central run` prints before exiting with status 2. Blocking steps (keys,
SQLite, the nats-server process) run off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import tempfile
from pathlib import Path

from aiohttp import web

from autogrocery.api.serving import serve
from autogrocery.central.app import create_app
from autogrocery.central.hub import Hub, internal_users
from autogrocery.central.hub_cluster import HubCluster
from autogrocery.central.hubconf import HubSpec, StoreUser
from autogrocery.central.intake import ShardState
from autogrocery.central.layout import Layout, advertised, exposure_problem, leaf_tls
from autogrocery.central.readmodel import ReadModelError
from autogrocery.central.schema import SchemaError
from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.central.tls import TlsError
from autogrocery.central.worker import ChainWorker, WorkerSettings
from autogrocery.chain.natsd import NatsError, find_binary
from autogrocery.config import Config

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Why the head office cannot start: one line."""


class CentralService:
    """Implements the API's `Links` (wake the sender, report status, hub health)."""

    def __init__(
        self,
        config: Config,
        sockets: list[socket.socket] | None = None,
        *,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.layout = Layout(config.central.data_path())
        self._sockets = sockets
        self._environ = environ
        self.model: SqlReadModel | None = None
        self.hub: Hub | HubCluster | None = None
        self.worker: ChainWorker | None = None
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None
        self.url = ""
        self.hub_urls: list[str] = []
        self.leaf_listen = ""  # HOST:PORT the hub's leaf listener bound (hub_urls: advertised)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        problem = exposure_problem(self.config.central)
        if problem is not None:
            raise StartupError(problem)
        try:
            await loop.run_in_executor(None, self._start_chain)
            c = self.config.central
            assert self.model is not None  # noqa: S101 (set by _start_chain)
            self.app = create_app(
                self.config, self.model, self, self.layout.root, environ=self._environ
            )
            self.runner, self.url = await serve(self.app, c.host, c.port, sockets=self._sockets)
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, StartupError | asyncio.CancelledError | KeyboardInterrupt):
                raise
            raise StartupError(_describe(exc, self.layout.db)) from exc
        log.info(
            "autogrocery head office running; API on %s; leaf links on %s; data in %s",
            self.url,
            ", ".join(self.hub_urls),
            self.layout.root,
            extra={"url": self.url, "hub": self.hub_urls, "leaf_listen": self.leaf_listen},
        )

    def _start_chain(self) -> None:
        """Keys, the read model, the hub, the worker (blocking)."""
        c = self.config.central
        _check_dir(self.layout.root)
        tls = leaf_tls(c, self.layout)
        users = internal_users(self.layout.keys)
        binary = find_binary()
        self.model = model = open_read_model(c.db, self.layout.root, c.zone())
        model.claim()
        spec = HubSpec(
            workdir=self.layout.hub,
            store_dir=self.layout.jetstream,
            leaf_host=c.leaf_host,
            leaf_port=c.leaf_port,
            leaf_advertise=c.leaf_advertise,
            tls=tls,
            central_hash=users.central_hash,
            system_hash=users.system_hash,
        )
        enrolled = model.enrolled()
        stores = [StoreUser(e.store_id, e.password_hash) for e in enrolled]
        hub = HubCluster(spec, binary, c.hub_nodes) if c.hub_nodes > 1 else Hub(spec, binary)
        self.hub = hub
        hub.start(stores)
        self.hub_urls = [f"nats-leaf://{a}" for a in advertised(c, hub.leaf_ports)]
        self.leaf_listen = ", ".join(f"{c.leaf_host}:{port}" for port in hub.leaf_ports)
        model.set_hub_urls(self.hub_urls)
        model.set_intake_shards(c.shards)  # what `central enroll` places new stores by
        settings = WorkerSettings(
            c.batch, c.ack_wait, c.reconcile_interval, c.shards, min(c.hub_nodes, 3)
        )
        self.worker = ChainWorker(hub, model, users, settings, enrolled)
        self.worker.start()

    async def stop(self) -> None:
        """Stop what started, in reverse; safe to call twice."""
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._stop_chain)

    def _stop_chain(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()
        model, self.model = self.model, None
        if model is not None:
            model.close_now()
        hub, self.hub = self.hub, None
        if hub is not None:
            hub.stop()

    # --- Links (what the API and signals need) -------------------------------------------

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def enrolment_changed(self) -> None:
        if self.worker is not None:
            self.worker.enrolment_changed()

    def status(self) -> dict[str, str]:
        return self.worker.status() if self.worker is not None else {"chain worker": "stopped"}

    def hub_nodes(self) -> dict[str, str]:
        """Each node of a hub cluster: "ok" or why not (blocking: its health checks)."""
        hub = self.hub
        return hub.status() if isinstance(hub, HubCluster) else {}

    def shards(self) -> list[ShardState]:
        return self.worker.shards() if self.worker is not None else []

    def hub_healthy(self) -> bool:
        hub = self.hub
        return hub is not None and hub.healthy()


def _check_dir(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError(f"the data directory {root} is a file, not a directory") from None
    except OSError as exc:
        raise StartupError(f"cannot create the data directory {root}: {exc.strerror}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=root, prefix=".write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StartupError(f"the data directory {root} is not writable: {exc.strerror}") from None


def _describe(exc: BaseException, db: Path) -> str:
    """One line for a failure of the head office's own start."""
    log.debug("the head office failed to start", exc_info=exc)
    if isinstance(exc, TlsError | NatsError | SchemaError | ReadModelError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.filename:
        text = f"{exc.filename}: {exc.strerror or exc}"
    elif isinstance(exc, sqlite3.Error):
        text = f"{db}: {exc}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())

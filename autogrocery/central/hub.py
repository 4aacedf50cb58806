"""The hub nats-server of the head office: started, reloaded on enrolment, watched.

Blocking calls (a process, urllib on its monitoring port): call them off any event loop.

The hub binds its client and monitoring ports (and the leaf port when configured as 0)
where the OS says, reads them back, then pins them in its config, so a hub that dies
and is restarted (natsd restarts it) comes back on the same addresses: the central's
client reconnects to the same URL, leaves to the same leaf port.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import bcrypt

from autogrocery.binaries import write_private
from autogrocery.central.hubconf import HubSpec, StoreUser, render
from autogrocery.chain.natsd import NatsError, NatsServer, Ports, stop_strays
from autogrocery.chain.protocol import store_account

log = logging.getLogger(__name__)

USERS_FILE = "hub-users.json"
RELOAD_TIMEOUT = 10.0
HASH_COST = 10  # nats-server checks it at each connection; the passwords are random


@dataclass(frozen=True, slots=True)
class Internal:
    """The hub users only this head office knows: the central service and the system
    account's user (for kicks)."""

    central_password: str
    central_hash: str
    system_password: str
    system_hash: str


def internal_users(keys_dir: Path) -> Internal:
    """Made at first start into `<keys>/hub-users.json` (0600), read after."""
    path = keys_dir / USERS_FILE
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return Internal(**data)
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    central, system = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    made = Internal(central, hash_password(central), system, hash_password(system))
    write_private(path, json.dumps(_as_dict(made)))
    return made


def _as_dict(users: Internal) -> dict[str, str]:
    return {name: getattr(users, name) for name in Internal.__slots__}


def hash_password(password: str) -> str:
    """A bcrypt hash nats-server accepts for a user's password."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(HASH_COST)).decode()


class HubProcesses(Protocol):
    """The hub as the chain worker and the API see it: one process (`Hub`) or a
    cluster of them (`hub_cluster.HubCluster`)."""

    @property
    def client_urls(self) -> list[str]: ...

    @property
    def leaf_ports(self) -> list[int]: ...

    def reload(self, stores: Sequence[StoreUser], timeout: float = RELOAD_TIMEOUT) -> None: ...

    def leaf_links(self, store_id: str) -> list[tuple[str, int]]: ...

    def restart_unanswering(self) -> None: ...

    def healthy(self) -> bool: ...

    def stop(self) -> None: ...


class Hub:
    """The hub process for a spec; `stores` is who is enrolled, at each (re)render."""

    def __init__(self, spec: HubSpec, binary: Path) -> None:
        self.spec = spec
        self._launch_spec = spec  # as first launched (ports it may choose)
        self.binary = binary
        self.server: NatsServer | None = None
        self.leaf_port = spec.leaf_port
        self._stores: tuple[StoreUser, ...] = ()

    def start(self, stores: Sequence[StoreUser]) -> Ports:
        self._stores = tuple(stores)
        self.spec = self._launch_spec
        server = NatsServer("hub", self.spec.workdir, render(self.spec, self._stores), self.binary)
        stop_strays(self.spec.workdir, server.config_path)  # a hub of a central killed -9
        ports = server.start()
        self.server = server
        varz = server.monitor("/varz") or {}
        leaf = varz.get("leaf")
        if not isinstance(leaf, dict) or not isinstance(leaf.get("port"), int):
            server.stop()
            raise NatsError("the hub started without a leaf listener (see hub.log)")
        self.leaf_port = leaf["port"]
        self.spec = replace(self.spec, leaf_port=self.leaf_port)
        server.set_config(self._pinned(ports))
        return ports

    def _pinned(self, ports: Ports) -> str:
        """The config with the ports this start bound, for any restart and reload."""
        text = render(self.spec, self._stores)
        client, monitor = urlsplit(ports.client).port, urlsplit(ports.monitor).port
        text = text.replace('listen: "127.0.0.1:-1"', f'listen: "127.0.0.1:{client}"', 1)
        return text.replace('http: "127.0.0.1:-1"', f'http: "127.0.0.1:{monitor}"', 1)

    def reload(self, stores: Sequence[StoreUser], timeout: float = RELOAD_TIMEOUT) -> None:
        """Take a new list of stores without a restart (SIGHUP), and wait until the
        server says it loaded it (its config load time moves). A reload must not change
        what the running process listens on, which nats-server refuses: the first
        process gets the config as it was launched (ports -1), and the pinned one is put
        back for restarts once it took it; a restarted process was launched pinned."""
        server = self._running()
        self._stores = tuple(stores)
        if server.ports is None:
            raise NatsError("the hub has not started")
        pinned = self._pinned(server.ports)
        launched = pinned if server.restarts else render(self._launch_spec, self._stores)
        try:
            reload_and_wait(server, launched, timeout)
        finally:
            server.set_config(pinned)

    def leaf_links(self, store_id: str) -> list[tuple[str, int]]:
        """(server id, connection id) of a store's leaf links (to kick after a rotation)."""
        return leaf_links(self._running(), store_id)

    @property
    def client_urls(self) -> list[str]:
        return [self.client_url]

    @property
    def leaf_ports(self) -> list[int]:
        return [self.leaf_port]

    def restart_unanswering(self) -> None:
        """The hub's process lives but its JetStream API has stopped answering (the
        reconciler saw it time out `UNANSWERED` times in a row): kill it, and it is started
        again as a hub that exited is. JetStream keeps its streams on disk."""
        server = self.server
        pid = server.pid if server is not None else None
        if pid is None:
            return
        log.error("the hub (pid %d) does not answer its JetStream API: restarting it", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def healthy(self) -> bool:
        return self.server is not None and self.server.healthy()

    @property
    def client_url(self) -> str:
        ports = self._running().ports
        if ports is None:
            raise NatsError("the hub has not started")
        return ports.client

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def _running(self) -> NatsServer:
        if self.server is None:
            raise NatsError("the hub is not running")
        return self.server


def reload_and_wait(server: NatsServer, config: str, timeout: float = RELOAD_TIMEOUT) -> None:
    """SIGHUP with `config`, and wait until the server says it loaded it (its config
    load time moves)."""
    before = _load_time(server)
    server.reload(config)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _load_time(server) not in (before, None):
            return
        time.sleep(0.02)
    raise NatsError(
        f"{server.name} did not reload its config within {timeout:g}s (see {server.log_path})"
    )


def _load_time(server: NatsServer) -> object:
    varz = server.monitor("/varz")
    return None if varz is None else varz.get("config_load_time")


def leaf_links(server: NatsServer, store_id: str) -> list[tuple[str, int]]:
    """(server id, connection id) of a store's leaf links on `server`."""
    account = store_account(store_id)
    varz = server.monitor("/varz") or {}
    server_id = varz.get("server_id")
    leafz = server.monitor(f"/leafz?acc={account}") or {}
    leafs = leafz.get("leafs")
    if not isinstance(server_id, str) or not isinstance(leafs, list):
        return []
    return [
        (server_id, leaf["id"]) for leaf in leafs if leaf.get("account") == account and "id" in leaf
    ]

"""The head office's hub as a cluster of nats-servers (`central.hub_nodes` = 3 or 5).

Each node is a nats-server of its own, in `<data>/hub/node-<n>/` (config, log,
JetStream store), with the same accounts as the one hub (hubconf.render) plus routes to
the others. JetStream runs clustered: the intake streams keep three replicas (R3), so a
node that dies loses nothing and stops nothing while the others are a majority. Each
node listens for stores' leaf links; a store's join file lists every node's, and its
leaf links to another when one goes. The central connects to all of them.

The nodes' ports are chosen at the cluster's first start and kept in
`<data>/hub/cluster.json`: routes must know each other's before any starts, and a
node restarted (natsd restarts one that dies) comes back where it was. The leaf ports
are `central.leaf_port` + n (n = 0, 1, 2...), or chosen too when it is 0.

Blocking calls (processes, urllib on the monitoring ports): call them off any event loop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from autogrocery.binaries import write_private
from autogrocery.central.hub import RELOAD_TIMEOUT, leaf_links, reload_and_wait
from autogrocery.central.hubconf import ClusterNode, HubSpec, StoreUser, render
from autogrocery.chain.natsd import NatsError, NatsServer, stop_strays
from autogrocery.ports import free_port

log = logging.getLogger(__name__)

PORTS_FILE = "cluster.json"
START_TIMEOUT = 60.0  # a node is healthy only once JetStream's meta group has a leader


class HubCluster:
    """The hub's nodes for a spec; `stores` is who is enrolled, at each (re)render."""

    def __init__(self, spec: HubSpec, binary: Path, nodes: int) -> None:
        self.spec = spec
        self.binary = binary
        self.size = nodes
        self.servers: list[NatsServer] = []
        self._nodes: list[tuple[ClusterNode, HubSpec]] = []
        self._stores: tuple[StoreUser, ...] = ()
        self._suspected: set[int] = set()  # pids unhealthy at the last restart_unanswering

    def start(self, stores: Sequence[StoreUser]) -> None:
        """Every node, started together (each waits for the others to elect a leader)."""
        self._stores = tuple(stores)
        self._nodes = self._layout()
        self.servers = [
            NatsServer(f"hub-{node.index}", spec.workdir, render(spec, stores, node), self.binary)
            for node, spec in self._nodes
        ]
        for server in self.servers:
            stop_strays(server.workdir, server.config_path)  # of a central killed -9
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            started = [pool.submit(server.start, START_TIMEOUT) for server in self.servers]
            failed = [f.exception() for f in started if f.exception() is not None]
        if failed:
            self.stop()
            raise NatsError(f"the hub cluster did not start: {failed[0]}")

    def _layout(self) -> list[tuple[ClusterNode, HubSpec]]:
        """Each node and its spec, with the ports of the cluster's first start."""
        path = self.spec.workdir / PORTS_FILE
        ports: list[dict[str, int]]
        if path.exists():
            ports = json.loads(path.read_text(encoding="utf-8"))
        else:
            ports = []
            for n in range(self.size):
                leaf = self.spec.leaf_port + n if self.spec.leaf_port else free_port()
                ports.append(dict(client=free_port(), monitor=free_port(),
                                  route=free_port(), leaf=leaf))  # fmt: skip
            self.spec.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private(path, json.dumps(ports))
        if len(ports) != self.size:
            raise NatsError(
                f"{path} has {len(ports)} hub nodes, central.hub_nodes is {self.size}: "
                "a cluster's size is fixed at its first start (move hub/ away to make it anew)"
            )
        routes = tuple(p["route"] for p in ports)
        layout = []
        for n, p in enumerate(ports):
            node = ClusterNode(n, p["client"], p["monitor"], p["route"], routes)
            workdir = self.spec.workdir / f"node-{n}"
            spec = replace(
                self.spec, workdir=workdir, store_dir=workdir / "jetstream", leaf_port=p["leaf"]
            )
            layout.append((node, spec))
        return layout

    def reload(self, stores: Sequence[StoreUser], timeout: float = RELOAD_TIMEOUT) -> None:
        """Every running node takes the new list of stores (SIGHUP); a node that is down
        gets it in its config for its restart.

        New stores' accounts come first, bare, on every node, and only then their users,
        exports and imports. The nodes reload one after another, and a node drops the
        interest another sends it in an account it does not know yet, for good (NATS
        logs "Unknown account ... for remote subject"): a store linked to a node that
        took it early was then unreachable from the others (the head office could not
        ask its leaf, so never sourced it; 8 of 1,000 stores in the simulation)."""
        known = {store.store_id for store in self._stores}
        new = {store.store_id for store in stores} - known
        steps = [frozenset(new), frozenset()] if new else [frozenset()]
        for bare in steps:
            for server, (node, spec) in zip(self.servers, self._nodes, strict=True):
                config = render(spec, stores, node, bare)
                if server.pid is None:
                    server.set_config(config)
                    continue
                reload_and_wait(server, config, timeout)
        self._stores = tuple(stores)  # only now: a reload that failed is made whole again

    def leaf_links(self, store_id: str) -> list[tuple[str, int]]:
        """(server id, connection id) of a store's leaf links, on whichever node."""
        return [link for server in self.servers for link in leaf_links(server, store_id)]

    @property
    def client_urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{node.client}" for node, _ in self._nodes]

    @property
    def leaf_ports(self) -> list[int]:
        return [spec.leaf_port for _, spec in self._nodes]

    def restart_unanswering(self) -> None:
        """The JetStream API timed out twice in a row (10 s at least): a node whose
        process lives but did not answer its health check at all (not even "unhealthy",
        which a node electing a leader says) at this call and at the one before is
        wedged, and is killed (then restarted as one that exited)."""
        suspects: set[int] = set()
        for server in self.servers:
            pid = server.pid
            if pid is None or _answers(server):
                continue
            if pid in self._suspected:
                log.error("hub node %s (pid %d) does not answer: restarting it", server.name, pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            else:
                suspects.add(pid)
        self._suspected = suspects

    def healthy(self) -> bool:
        """A majority of the nodes answer their health check (JetStream included)."""
        return sum(server.healthy() for server in self.servers) > self.size // 2

    def status(self) -> dict[str, str]:
        """Each node: "ok", or why not (for /readyz)."""
        return {server.name: "ok" if server.healthy() else "not healthy" for server in self.servers}

    def stop(self) -> None:
        if not self.servers:
            return
        with ThreadPoolExecutor(max_workers=max(1, len(self.servers))) as pool:
            list(pool.map(lambda server: server.stop(), self.servers))


def _answers(server: NatsServer) -> bool:
    """The node answers its health check, healthy or not (a 503 is an answer)."""
    ports = server.ports
    if ports is None:
        return False
    try:
        with urllib.request.urlopen(ports.monitor + "/healthz", timeout=2.0):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False

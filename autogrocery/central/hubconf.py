"""The hub nats-server's config, rendered from the enrolled stores (docs/chain.md).

One account per store (`S_<store>`), holding that store's user and exporting to the head
office's account (`HQ`) only its JetStream API, its delivery subjects and its
`chain.down` subjects; `HQ` imports them under `chain.api.<store>` etc. Users live in
accounts, not in the leafnode `authorization` block, because accounts are reloadable
(SIGHUP) and that block is not: enrolling a store never restarts the hub. A system
account user lets the central kick the leaf connection of a store whose credentials
were rotated.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from autogrocery.central.tls import LeafTls
from autogrocery.chain.natsd import quote
from autogrocery.chain.protocol import (
    HQ_ACCOUNT,
    HUB_DOMAIN,
    api_prefix,
    deliver_prefix,
    down_subjects,
    store_account,
    store_domain,
)

SYSTEM_ACCOUNT = "SYS"
CENTRAL_USER = "central"
SYSTEM_USER = "sys"
TLS_TIMEOUT = 5.0  # seconds for a leaf's TLS handshake (the default 2 s is tight on a WAN)


@dataclass(frozen=True, slots=True)
class StoreUser:
    """One enrolled store as the hub knows it."""

    store_id: str
    password_hash: str  # bcrypt


@dataclass(frozen=True, slots=True)
class ClusterNode:
    """One node of a hub cluster (`central.hub_nodes` > 1), its ports fixed at the
    cluster's first start: every node must know where the others' routes listen."""

    index: int
    client: int
    monitor: int
    route: int
    routes: tuple[int, ...]  # every node's route port, its own included

    @property
    def name(self) -> str:
        return f"hq-{self.index}"


@dataclass(frozen=True, slots=True)
class HubSpec:
    """Everything but the stores: where the hub listens and keeps its data."""

    workdir: Path
    store_dir: Path
    leaf_host: str
    leaf_port: int  # 0: any free port (tests), read back from /varz
    leaf_advertise: str  # "" when stores dial leaf_host:leaf_port
    tls: LeafTls | None
    central_hash: str  # bcrypt of the central service's password
    system_hash: str  # bcrypt of the system user's password


def render(
    spec: HubSpec,
    stores: Sequence[StoreUser],
    node: ClusterNode | None = None,
    bare: AbstractSet[str] = frozenset(),
) -> str:
    """The whole config file: of the one hub, or of one node of a hub cluster. The
    stores in `bare` have their account only (no user, nothing exported or imported):
    a cluster's first step in taking new stores (`HubCluster.reload`)."""
    whole = [store for store in stores if store.store_id not in bare]
    accounts = [
        f"  {SYSTEM_ACCOUNT} {{ users: [{_user(SYSTEM_USER, spec.system_hash)}] }}",
        _hq(spec, whole),
        *(_store(store) for store in whole),
        *(f"  {quote(store_account(store))} {{ }}" for store in sorted(bare)),
    ]
    leaf = [f"  listen: {quote(_hostport(spec.leaf_host, spec.leaf_port or -1))}"]
    if spec.leaf_advertise:
        leaf.append(f"  advertise: {quote(spec.leaf_advertise)}")
    if spec.tls is not None:
        leaf.append(
            f"  tls {{ cert_file: {quote(str(spec.tls.cert_file))}, "
            f"key_file: {quote(str(spec.tls.key_file))}, timeout: {TLS_TIMEOUT} }}"
        )
    client = f"127.0.0.1:{node.client}" if node else "127.0.0.1:-1"
    monitor = f"127.0.0.1:{node.monitor}" if node else "127.0.0.1:-1"
    lines = [
        "# Written by autogrocery central from its enrolled stores; changes are lost.",
        f"server_name: {node.name if node else 'hq'}",
        # A store whose link died half-open (its NAT or a proxy dropped it silently) is
        # seen gone in 15 s, not the default 2 minutes x 2.
        "ping_interval: 5s",
        "ping_max: 3",
        f"listen: {quote(client)}",  # the central service connects locally, nobody else
        f"http: {quote(monitor)}",  # monitoring: health, /leafz, /varz
        f"ports_file_dir: {quote(str(spec.workdir))}",
        f"jetstream {{ store_dir: {quote(str(spec.store_dir))}, domain: {HUB_DOMAIN} }}",
        f"system_account: {SYSTEM_ACCOUNT}",
        "accounts {",
        *accounts,
        "}",
        "leafnodes {",
        *leaf,
        "}",
        *(_cluster(node) if node else []),
        "",
    ]
    return "\n".join(lines)


def _cluster(node: ClusterNode) -> list[str]:
    """The routes between the nodes, on loopback: the nodes are processes of one head
    office on its host (a node that dies or wedges is one of three, not the hub)."""
    routes = ", ".join(quote(f"nats-route://127.0.0.1:{port}") for port in node.routes)
    return [
        f"cluster {{ name: hq, listen: {quote(f'127.0.0.1:{node.route}')}, routes: [{routes}] }}"
    ]


FLOW_CONTROL = "$JS.FC.>"


def _hq(spec: HubSpec, stores: Sequence[StoreUser]) -> str:
    imports = []
    for store in stores:
        account = quote(store_account(store.store_id))
        api = f"$JS.{store_domain(store.store_id)}.API.>"
        imports += [
            f"{{service: {{account: {account}, subject: {quote(api)}}}, "
            f"to: {quote(api_prefix(store.store_id) + '.>')}}}",
            f"{{stream: {{account: {account}, subject: "
            f"{quote(deliver_prefix(store.store_id) + '.>')}}}}}",
            f"{{service: {{account: {account}, subject: {quote(down_subjects(store.store_id))}}}}}",
            # Sourcing's flow control: the intake stream answers the store's consumer on
            # $JS.FC.>; without the import, a backlog past its window stalls the source
            # for good ("stalled on flow control"). Every store's import shares the local
            # subject: an answer fans out to all, only the asking consumer listens.
            f"{{service: {{account: {account}, subject: {quote(FLOW_CONTROL)}}}}}",
        ]
    body = ",\n      ".join(imports)
    return (
        f"  {HQ_ACCOUNT} {{\n    jetstream: enabled\n"
        f"    users: [{_user(CENTRAL_USER, spec.central_hash)}]\n"
        f"    imports: [\n      {body}\n    ]\n  }}"
    )


def _store(store: StoreUser) -> str:
    api = f"$JS.{store_domain(store.store_id)}.API.>"
    exports = ", ".join(
        [
            f"{{service: {quote(api)}}}",
            f"{{stream: {quote(deliver_prefix(store.store_id) + '.>')}}}",
            f"{{service: {quote(down_subjects(store.store_id))}}}",
            f"{{service: {quote(FLOW_CONTROL)}}}",
        ]
    )
    user = _user(store_user(store.store_id), store.password_hash)
    return (
        f"  {quote(store_account(store.store_id))} {{\n"
        f"    users: [{user}]\n    exports: [{exports}]\n  }}"
    )


def store_user(store_id: str) -> str:
    """The user a store's leaf connects as (its join file's `user`)."""
    return f"store-{store_id}"


def _user(name: str, password_hash: str) -> str:
    return f"{{user: {quote(name)}, password: {quote(password_hash)}}}"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

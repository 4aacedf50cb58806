"""Where the head office keeps things, and what its leaf link needs before it listens.

<data>/central.db     the read model, enrolment, the API's accounts (schema.py)
<data>/jwt.key        the API's token key (as a store's)
<data>/keys/          the leaf link's CA and certificate, the hub's own users (0600)
<data>/hub/           hub.conf, hub.log, and JetStream's store (hub/jetstream); with
                      central.hub_nodes > 1, a dir per node (hub/node-<n>/) and the
                      nodes' ports (hub/cluster.json)
<data>/store.lock     held while `central run` runs (datadir.hold); its pid
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from autogrocery.central.schema import DB_NAME
from autogrocery.central.tls import LeafTls, ensure_generated, own_files
from autogrocery.config import CentralConfig

WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 (names, not a bind)


@dataclass(frozen=True, slots=True)
class Layout:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / DB_NAME

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def hub(self) -> Path:
        return self.root / "hub"

    @property
    def jetstream(self) -> Path:
        return self.root / "hub" / "jetstream"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(config: CentralConfig) -> str | None:
    """Why the leaf listener must not start as configured, or None: off loopback the
    link carries stores' credentials and stock, so it needs TLS (as ZeroMQ off
    loopback needs CurveZMQ); listening on every address needs an advertised address
    that stores can dial and the certificate can name."""
    if config.hub_nodes not in (1, 3, 5):
        return (
            f"central: central.hub_nodes is {config.hub_nodes}; it must be 1, 3 or 5 (a "
            "cluster needs a majority of its nodes up)"
        )
    advertise = [a for a in config.leaf_advertise.split(",") if a.strip()]
    if config.hub_nodes > 1 and advertise and len(advertise) != config.hub_nodes:
        return (
            f"central: central.leaf_advertise names {len(advertise)} addresses for "
            f"{config.hub_nodes} hub nodes; give one HOST:PORT per node, comma-separated"
        )
    where = f"{config.leaf_host}:{config.leaf_port}"
    if not config.leaf_tls and not is_loopback(config.leaf_host):
        return (
            f"central: refusing to listen for stores' leaf links on {where} without TLS; "
            "set central.leaf_tls = true (the default), or central.leaf_host = 127.0.0.1"
        )
    if config.leaf_host in WILDCARDS and not config.leaf_advertise:
        return (
            f"central: the leaf listener {where} binds every address; set "
            "central.leaf_advertise to the HOST:PORT stores dial (it goes into join files "
            "and the TLS certificate)"
        )
    return None


def advertised(config: CentralConfig, leaf_ports: list[int]) -> list[str]:
    """HOST:PORT stores dial, one per hub node (the port each bound, when configured as
    0): `leaf_advertise`'s, comma-separated, else `leaf_host` with each port."""
    if config.leaf_advertise:
        return [a.strip() for a in config.leaf_advertise.split(",") if a.strip()]
    host = config.leaf_host
    return [f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for port in leaf_ports]


def leaf_tls(config: CentralConfig, layout: Layout) -> LeafTls | None:
    """The leaf listener's TLS files: the operator's own, or the head office's (made on
    first use); None when TLS is off (loopback only, see exposure_problem)."""
    if not config.leaf_tls:
        return None
    if config.leaf_cert:
        return own_files(config.leaf_cert, config.leaf_key, config.leaf_ca)
    names = [config.leaf_host]
    if config.leaf_advertise:
        names.append(urlsplit(f"//{config.leaf_advertise}").hostname or "")
    return ensure_generated(layout.keys, names)

"""CurveZMQ keys and the authenticator that admits only authorized clients.

Layout of a keys directory (made by `autogrocery keys`):

    store.key, store.key_secret        the store's key pair
    authorized/NAME.key                public keys of the clients the store admits
    clients/NAME/                      one bundle per client, to copy to its host:
        client.key, client.key_secret  the client's key pair
        store.key                      the store's public key
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

from autogrocery.transports.zmqio import CurveClient, CurveServer, TransportError

log = logging.getLogger(__name__)

STORE = "store"
CLIENT = "client"
AUTHORIZED = "authorized"
CLIENTS = "clients"


@dataclass(frozen=True, slots=True)
class Created:
    keys_dir: Path
    store_new: bool
    clients: dict[str, bool]  # name -> created now (False: it existed and was kept)


def create_keys(keys_dir: Path, names: list[str]) -> Created:
    """Create the store's pair (once) and a bundle per client name; never overwrite."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    store_new = ensure_store_pair(keys_dir)
    authorized = keys_dir / AUTHORIZED
    authorized.mkdir(exist_ok=True)
    made: dict[str, bool] = {}
    for name in names:
        bundle = keys_dir / CLIENTS / name
        if (bundle / f"{CLIENT}.key_secret").exists():
            made[name] = False
            continue
        bundle.mkdir(parents=True, exist_ok=True)
        public, secret = zmq.auth.create_certificates(bundle, CLIENT)
        Path(secret).chmod(0o600)
        shutil.copyfile(keys_dir / f"{STORE}.key", bundle / f"{STORE}.key")
        shutil.copyfile(public, authorized / f"{name}.key")
        made[name] = True
    return Created(keys_dir, store_new, made)


def ensure_store_pair(keys_dir: Path) -> bool:
    """Generate the store's key pair if absent; True if it was generated now."""
    if (keys_dir / f"{STORE}.key_secret").exists():
        return False
    keys_dir.mkdir(parents=True, exist_ok=True)
    zmq.auth.create_certificates(keys_dir, STORE)
    (keys_dir / f"{STORE}.key_secret").chmod(0o600)
    return True


def server_keys(keys_dir: Path) -> CurveServer:
    """The store's keys (generated on first start when absent) and the client keys it
    admits (those in `authorized/` now: a key added later counts after a restart)."""
    if ensure_store_pair(keys_dir):
        log.warning("generated the store's CurveZMQ key pair in %s", keys_dir)
    public, secret = zmq.auth.load_certificate(keys_dir / f"{STORE}.key_secret")
    if secret is None:
        raise TransportError(f"zmq: {keys_dir / STORE}.key_secret holds no secret key")
    authorized = keys_dir / AUTHORIZED
    authorized.mkdir(exist_ok=True)
    try:
        keys = frozenset(zmq.auth.load_certificates(authorized))
    except (OSError, ValueError) as exc:
        raise TransportError(f"zmq: cannot read the client keys in {authorized}: {exc}") from None
    if not keys:
        log.warning("no client keys in %s: no robot or analytics can connect", authorized)
    return CurveServer(public, secret, keys)


def client_keys(bundle: Path) -> CurveClient:
    """A client's key pair and the store's public key from a bundle directory."""
    try:
        public, secret = zmq.auth.load_certificate(bundle / f"{CLIENT}.key_secret")
        server, _ = zmq.auth.load_certificate(bundle / f"{STORE}.key")
    except (OSError, ValueError) as exc:
        raise TransportError(
            f"zmq: cannot read keys from {bundle} (expected {CLIENT}.key_secret and "
            f"{STORE}.key, as made by `autogrocery keys`): {exc}"
        ) from None
    if secret is None:
        raise TransportError(f"zmq: {bundle / CLIENT}.key_secret holds no secret key")
    return CurveClient(public, secret, server, str(bundle))

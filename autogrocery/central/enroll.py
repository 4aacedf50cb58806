"""Enrolling a store (`autogrocery central enroll STORE_ID`): credentials of its own,
a join file that carries them, and a running head office told to take them.

The password is random and leaves the head office only in the join file (0600); the
database keeps its bcrypt hash, from which the hub's config is rendered. The store's
user lands in an account of its own that can publish nothing but its own path
(docs/chain.md). `--rotate` gives an enrolled store new credentials: the running head
office reloads the hub and kicks the store's current link, so the old ones stop
working at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from autogrocery.central.hub import hash_password
from autogrocery.central.hubconf import store_user
from autogrocery.central.layout import Layout, advertised, leaf_tls
from autogrocery.central.readmodel import AlreadyEnrolled, NotEnrolled
from autogrocery.central.sql_model import open_read_model
from autogrocery.chain.joinfile import JoinFile
from autogrocery.chain.protocol import shard_of, store_id_problem
from autogrocery.config import CentralConfig
from autogrocery.datadir import running_pid

log = logging.getLogger(__name__)


_ALREADY = (
    "store {} is enrolled already; pass --rotate to give it new credentials (its old ones "
    "stop working)"
)
_NOT_YET = "store {} is not enrolled; enrol it without --rotate"


class EnrolError(Exception):
    """Why a store cannot be enrolled: one line."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    store_id: str
    join_file: Path
    generation: int
    hub: tuple[str, ...]
    told_pid: int | None  # the running head office that was told (SIGHUP), if any
    shard: int = 0  # the intake shard its events go through
    shards: int = 1  # of the head office's


def enroll(
    config: CentralConfig,
    store_id: str,
    *,
    out: Path | None = None,
    rotate: bool = False,
    hub: list[str] | None = None,
) -> Enrolled:
    """Enrol `store_id` (or rotate its credentials) and write its join file."""
    problem = store_id_problem(store_id)
    if problem is not None:
        raise EnrolError(problem)
    layout = Layout(config.data_path())
    out = out if out is not None else Path(f"{store_id}.join")
    model = open_read_model(config.db, layout.root, config.zone())
    try:
        enrolled = {e.store_id: e.shard for e in model.enrolled()}
        # The running head office's count, or this config's when it is higher (raised
        # for the stores enrolled from now on: the head office makes their shards' streams).
        shards = max(model.intake_shards() or 1, config.shards)
        shard = enrolled.get(store_id, shard_of(store_id, shards))  # kept at a rotation
        if store_id in enrolled and not rotate:
            raise EnrolError(_ALREADY.format(store_id))
        if store_id not in enrolled and rotate:
            raise EnrolError(_NOT_YET.format(store_id))
        if out.exists() and not rotate:
            raise EnrolError(f"{out} exists already; pass --out FILE to write elsewhere")
        if not out.parent.is_dir():
            raise EnrolError(f"{out.parent} is not a directory (--out)")
        tls = leaf_tls(config, layout)  # makes the CA on first use: the join file needs it
        ca = tls.ca_pem() if tls is not None else None
        urls = list(hub or []) or model.hub_urls() or configured_urls(config)
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("nats-leaf", "tls") or not parts.hostname:
                raise EnrolError(f"hub URL {url!r} is not nats-leaf://HOST:PORT (--hub)")
        password = secrets.token_urlsafe(32)
        try:
            generation = model.enroll(
                store_id,
                hash_password(password),
                rotate=rotate,
                now=time.time(),
                shard=shard,
            )
        except AlreadyEnrolled:  # enrolled by someone else meanwhile
            raise EnrolError(_ALREADY.format(store_id)) from None
        except NotEnrolled:
            raise EnrolError(_NOT_YET.format(store_id)) from None
    finally:
        model.close_now()
    join = JoinFile(store_id, tuple(urls), store_user(store_id), password, ca)
    try:
        join.write(out)
    except OSError as exc:
        raise EnrolError(
            f"store {store_id} is enrolled, but its join file {out} could not be written "
            f"({exc.strerror}); run this again with --rotate to make new credentials"
        ) from None
    told = _tell_running(layout.root)
    return Enrolled(store_id, out, generation, join.hub, told, shard, shards)


def configured_urls(config: CentralConfig) -> list[str]:
    """The leaf URLs from config (one per hub node), before any `central run` saved the
    ones it bound."""
    if not config.leaf_advertise and (
        config.leaf_port == 0 or config.leaf_host in ("0.0.0.0", "::", "")  # noqa: S104
    ):
        raise EnrolError(
            "no hub address to write into the join file: run `autogrocery central run` "
            "once, set central.leaf_advertise, or pass --hub nats-leaf://HOST:PORT"
        )
    ports = [config.leaf_port + n for n in range(config.hub_nodes)]
    return [f"nats-leaf://{address}" for address in advertised(config, ports)]


def _tell_running(data_dir: Path) -> int | None:
    """SIGHUP to the head office running on `data_dir`, which then reloads its hub."""
    pid = running_pid(data_dir)
    if not pid:
        return None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGHUP)
        return pid
    return None

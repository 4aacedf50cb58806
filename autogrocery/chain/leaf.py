"""The store's leaf nats-server: its config, from the store's join file.

A leaf node with its own JetStream domain (`store-<id>`), a client port on loopback
only (the store's relay is its only client), its data next to the store's database,
and one remote: the head office's leaf URLs, as the store's own user, over TLS with
the head office's CA when the join file has one.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

from autogrocery.binaries import write_private
from autogrocery.chain.joinfile import JoinFile
from autogrocery.chain.natsd import quote
from autogrocery.chain.protocol import store_domain

MAX_MEMORY = "64MB"


def leaf_dir(data_dir: Path) -> Path:
    return data_dir / "chain" / "leaf"


def leaf_config(join: JoinFile, workdir: Path) -> str:
    """The leaf's config; writes the CA it trusts beside it."""
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    remote = [f"urls: [{', '.join(quote(_with_user(url, join)) for url in join.hub)}]"]
    if join.ca is not None:
        ca = workdir / "hub-ca.pem"
        write_private(ca, join.ca)
        remote.append(f"tls {{ ca_file: {quote(str(ca))} }}")
    return "\n".join(
        [
            f"server_name: {quote('leaf-' + join.store_id)}",
            # A link that died without a word (a NAT or proxy dropping it half-open) is
            # noticed in 15 s, not the default 2 minutes x 2: then it reconnects.
            "ping_interval: 5s",
            "ping_max: 3",
            "listen: 127.0.0.1:-1",
            "http: 127.0.0.1:-1",
            f"ports_file_dir: {quote(str(workdir))}",
            "jetstream {",
            f"  domain: {quote(store_domain(join.store_id))}",
            f"  store_dir: {quote(str(workdir / 'js'))}",
            f"  max_memory_store: {MAX_MEMORY}",
            "}",
            "leafnodes {",
            "  reconnect: 1s",  # back within a second of the link healing
            f"  remotes: [ {{ {'; '.join(remote)} }} ]",
            "}",
            "",
        ]
    )


def _with_user(url: str, join: JoinFile) -> str:
    parts = urlsplit(url)
    user = f"{urlquote(join.user, safe='')}:{urlquote(join.password, safe='')}"
    scheme = "tls" if join.ca is not None and parts.scheme == "nats-leaf" else parts.scheme
    return f"{scheme}://{user}@{parts.hostname}:{parts.port or 7422}"

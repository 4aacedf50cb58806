"""A store's side of the chain, as small as a test needs: a real leaf nats-server made
from a join file (domain store-<id>, loopback, its remote with the join file's user,
password and CA), its UP_<id>_<epoch> and DOWN_<id> streams, and UpEvents published
into it exactly as chain/protocol.py says. What the head office sends down is read
from DOWN_<id>."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import nats
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from autogrocery.chain.joinfile import JoinFile, read_join_file
from autogrocery.chain.natsd import NatsServer, Ports, find_binary, quote
from autogrocery.chain.protocol import (
    DOWN_TYPES,
    Facts,
    UpEvent,
    down_stream,
    down_subjects,
    event_id,
    store_domain,
    up_stream,
    up_subject,
    up_subjects,
)


def leaf_config(join: JoinFile, workdir: Path) -> str:
    """A store's leaf node config from its join file."""
    urls = []
    for url in join.hub:
        parts = urlsplit(url)
        netloc = f"{join.user}:{join.password}@{parts.hostname}:{parts.port}"
        urls.append(urlunsplit(("nats-leaf", netloc, "", "", "")))
    remote = f"urls: [{', '.join(quote(u) for u in urls)}]"
    if join.ca is not None:
        ca_file = workdir / "hub-ca.pem"
        workdir.mkdir(parents=True, exist_ok=True)
        ca_file.write_text(join.ca)
        remote += f", tls {{ ca_file: {quote(str(ca_file))} }}"
    return "\n".join(
        [
            f"server_name: {quote('leaf-' + join.store_id)}",
            'listen: "127.0.0.1:-1"',
            'http: "127.0.0.1:-1"',
            f"ports_file_dir: {quote(str(workdir))}",
            f"jetstream {{ store_dir: {quote(str(workdir / 'js'))}, "
            f"domain: {quote(store_domain(join.store_id))} }}",
            f"leafnodes {{ reconnect: 1, remotes: [ {{ {remote} }} ] }}",
            "",
        ]
    )


@dataclass
class Leaf:
    join: JoinFile
    workdir: Path
    epoch: int = 1
    seq: int = 0
    server: NatsServer | None = None
    ports: Ports | None = None
    nc: Any = None
    js: Any = None
    published: list[UpEvent] = field(default_factory=list)

    @classmethod
    async def start(cls, join_file: Path, workdir: Path, *, epoch: int = 1) -> Leaf:
        leaf = cls(read_join_file(join_file), workdir, epoch)
        await leaf.up()
        return leaf

    @property
    def store_id(self) -> str:
        return self.join.store_id

    async def up(self) -> None:
        """(Re)start the leaf server with its current join file and connect to it."""
        import asyncio

        self.server = NatsServer(
            "leaf", self.workdir, leaf_config(self.join, self.workdir), find_binary()
        )
        self.ports = await asyncio.get_running_loop().run_in_executor(None, self.server.start)
        self.nc = await nats.connect(self.ports.client, max_reconnect_attempts=0)
        self.js = self.nc.jetstream()
        await self.ensure_streams()

    async def ensure_streams(self) -> None:
        sid = self.store_id
        await self.js.add_stream(
            StreamConfig(
                name=up_stream(sid, self.epoch),
                subjects=[up_subjects(sid)],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                duplicate_window=120.0,
            )
        )
        await self.js.add_stream(
            StreamConfig(
                name=down_stream(sid),
                subjects=[down_subjects(sid)],
                storage=StorageType.FILE,
                max_msgs_per_subject=1,
            )
        )

    async def down(self) -> None:
        """Stop the leaf server (as a store that went away)."""
        import asyncio

        if self.nc is not None:
            await self.nc.close()
            self.nc = None
        if self.server is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.server.stop)
            self.server = None

    async def publish(
        self,
        facts: Facts,
        *,
        kind: str = "stock",
        store_id: str | None = None,
        subject_store: str | None = None,
        seq: int | None = None,
        at: float | None = None,
    ) -> UpEvent:
        """Publish one event into the leaf's up stream; by default the next of this store,
        honestly labelled. The keyword arguments let a test lie like a rogue store."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        event = UpEvent(store_id or self.store_id, seq, kind, at or time.time(), facts)  # type: ignore[arg-type]
        subject = up_subject(subject_store or self.store_id, kind)
        await self.js.publish(
            subject,
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": event_id(event.store_id, seq)},
        )
        self.published.append(event)
        return event

    async def received(self) -> dict[str, Any]:
        """What the head office has put into DOWN_<store>: subject -> decoded message."""
        found: dict[str, Any] = {}
        jsm = self.nc.jsm()
        info = await jsm.stream_info(down_stream(self.store_id), subjects_filter=">")
        for subject in info.state.subjects or {}:
            msg = await jsm.get_last_msg(down_stream(self.store_id), subject)
            kind = subject.split(".")[3]
            found[subject] = msgspec.json.decode(msg.data, type=DOWN_TYPES[kind])
        return found


__all__ = ["Leaf", "leaf_config"]

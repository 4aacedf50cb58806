"""The simulation's stores: a few real leaf nats-servers, each carrying many virtual
stores, and a publisher that writes each store's events into its up stream.

A real store runs a leaf server of its own (JetStream domain `store-<id>`). Here one
leaf server holds an account per virtual store (`S_<id>`, JetStream enabled), each with
its own leafnode remote to the hub as that store's user, so the hub sees what it sees
of real stores: one leaf connection per store, in the store's account. A server has one
JetStream domain, so each account maps `$JS.store-<id>.API.>` (what the head office
asks through its import) onto its own JetStream API. The publisher connects once per
leaf server, to an account `PUB` whose `chain.up.<id>.>` each store account imports: a
store's events land in its own `UP_<id>_1` stream with `Nats-Msg-Id = <id>:<seq>`, as a
real store's relay publishes them.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import msgspec
import nats
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

from autogrocery.chain.natsd import quote
from autogrocery.chain.protocol import (
    Facts,
    Level,
    Movement,
    OrderEnd,
    UpEvent,
    event_id,
    store_domain,
    up_stream,
    up_subject,
    up_subjects,
)
from autogrocery.ports import free_port

PUBLISHER = ("pub", "pub-password")
STORE_LOGIN = "store-password"  # each store account's local user (makes its stream)
_encode = msgspec.json.Encoder().encode


@dataclass
class LeafServer:
    """One leaf nats-server carrying `stores`."""

    index: int
    stores: list[str]
    workdir: Path
    hub_leaf: list[str]  # HOST:PORT of the hub's leaf listeners (one per hub node)
    hub_password: str  # every virtual store's password on the hub
    port: int = field(default_factory=free_port)
    monitor: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: BinaryIO | None = None

    def config(self) -> str:
        accounts = [
            f"  PUB {{ users: [{{user: {PUBLISHER[0]}, password: {PUBLISHER[1]}}}], "
            'exports: [{stream: "chain.up.>"}] }'
        ]
        remotes = []
        for store in self.stores:
            api = f"$JS.{store_domain(store)}.API.>"
            accounts.append(
                f"  S_{store} {{ jetstream: enabled, "
                f'users: [{{user: "u-{store}", password: {STORE_LOGIN}}}], '
                f'mappings: {{ {quote(api)}: "$JS.API.>" }}, '
                f"imports: [{{stream: {{account: PUB, subject: {quote(up_subjects(store))}}}}}] }}"
            )
            urls = ", ".join(
                quote(f"nats-leaf://store-{store}:{self.hub_password}@{hub}")
                for hub in self.hub_leaf
            )
            remotes.append(f"    {{ urls: [{urls}], account: S_{store} }}")
        return "\n".join(
            [
                f"server_name: sim-leaf-{self.index}",
                f"listen: 127.0.0.1:{self.port}",
                f"http: 127.0.0.1:{self.monitor}",
                "ping_interval: 5s",
                "ping_max: 3",
                f"jetstream {{ domain: sim-{self.index}, "
                f"store_dir: {quote(str(self.workdir / 'js'))}, max_memory_store: 64MB }}",
                "accounts {",
                *accounts,
                "}",
                "leafnodes {",
                "  reconnect: 1s",
                "  remotes: [",
                *remotes,
                "  ]",
                "}",
                "",
            ]
        )

    def start(self, binary: Path) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "leaf.conf"
        path.write_text(self.config())
        self.log = open(self.workdir / "leaf.log", "ab")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(  # noqa: S603 (the nats-server we ship, our config)
            [binary, "-c", path],
            stdout=self.log,
            stderr=self.log,
            # Go's soft memory limit: 250 stores' streams on one server grew past 4 GB
            # and the kernel killed one (a real store's leaf holds one store's).
            env={**os.environ, "GOMEMLIMIT": "1500MiB"},
        )

    async def make_streams(self) -> None:
        """Each store's `UP_<id>_1`, made in its own account (as a store's relay does)."""

        async def make(store: str) -> None:
            nc = await nats.connect(
                f"nats://127.0.0.1:{self.port}", user=f"u-{store}", password=STORE_LOGIN
            )
            try:
                await nc.jetstream().add_stream(
                    StreamConfig(
                        name=up_stream(store, 1),
                        subjects=[up_subjects(store)],
                        storage=StorageType.FILE,
                    )
                )
            finally:
                await nc.close()

        for start in range(0, len(self.stores), 50):
            await asyncio.gather(*(make(s) for s in self.stores[start : start + 50]))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()


async def wait_listening(server: LeafServer, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"leaf server {server.index} did not start (see leaf.log)"
                ) from None
            await asyncio.sleep(0.1)


class Publisher:
    """Each store's events in the shape its outbox writes them: levels of a few SKUs, a
    completed sale, now and then waste; a heartbeat every tenth event."""

    def __init__(self, servers: list[LeafServer], skus: int, seed: int = 7) -> None:
        self.servers = servers
        self.skus = skus
        self.rng = random.Random(seed)  # noqa: S311 (made-up events)
        self.seqs: dict[str, int] = {s: 0 for server in servers for s in server.stores}
        self.links: dict[int, Client] = {}
        self.order = [(server.index, store) for server in servers for store in server.stores]

    async def connect(self) -> None:
        for server in self.servers:
            self.links[server.index] = await nats.connect(
                f"nats://127.0.0.1:{server.port}",
                user=PUBLISHER[0],
                password=PUBLISHER[1],
                max_reconnect_attempts=-1,
                pending_size=64 * 1024 * 1024,
            )

    async def close(self) -> None:
        for nc in self.links.values():
            await nc.flush()
            await nc.close()

    @property
    def published(self) -> int:
        return sum(self.seqs.values())

    def event(self, store: str) -> tuple[str, bytes, dict[str, str]]:
        self.seqs[store] += 1
        seq, now, rng = self.seqs[store], time.time(), self.rng
        if seq % 10 == 0:
            kind, facts = "heartbeat", Facts(on_hand_units=rng.randint(10_000, 90_000))
        elif seq % 10 in (3, 7):
            total = rng.randint(100, 9000)
            sale = OrderEnd(f"{store}-o{seq}", "CUSTOMER", "COMPLETED", total, 3, now)
            kind, facts = "orders", Facts(orders=[sale])
        else:
            skus = [f"SKU-{rng.randrange(self.skus):05d}" for _ in range(3)]
            levels = [Level(sku, rng.randint(0, 500), rng.randint(0, 5)) for sku in skus]
            waste = (
                [Movement(skus[0], "WASTE", -1, None, f"lot-{seq}", 120, now)]
                if rng.random() < 0.05
                else []
            )
            kind, facts = "stock", Facts(levels=levels, movements=waste)
        body = _encode(UpEvent(store, seq, kind, now, facts))  # type: ignore[arg-type]
        return up_subject(store, kind), body, {"Nats-Msg-Id": event_id(store, seq)}

    async def burst(self, count: int) -> None:
        """`count` events, round the stores, as fast as the links take them."""
        order = self.order
        for n in range(count):
            index, store = order[n % len(order)]
            subject, body, headers = self.event(store)
            await self.links[index].publish(subject, body, headers=headers)
            if n % 2000 == 1999:
                await asyncio.gather(*(nc.flush() for nc in self.links.values()))
        await asyncio.gather(*(nc.flush() for nc in self.links.values()))

    async def steady(self, rate_per_store: float, duration: float) -> None:
        """Every store at `rate_per_store` events/s, spread evenly over each second."""
        order = self.order
        interval = 1.0 / (rate_per_store * len(order))
        started = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - started) < duration:
            due = int(elapsed / interval) + 1
            while n < due:
                index, store = order[n % len(order)]
                subject, body, headers = self.event(store)
                await self.links[index].publish(subject, body, headers=headers)
                n += 1
            await asyncio.sleep(0.01)
        await asyncio.gather(*(nc.flush() for nc in self.links.values()))

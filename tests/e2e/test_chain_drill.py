"""The chain drill: a head office and two stores as real processes on loopback, real
nats-servers between them. Orders flow at both; store north's link is cut (a TCP proxy
that is the hub's advertised leaf address) while it sells and ships a transfer; north
is killed with -9 and started again while cut; a catalog version is published while
south is down; the hub is killed with -9 while north catches up; everything heals.
Then every guarantee of the chain (docs/chain.md, "The contract in short") is checked."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import nats
import orjson
import pytest

from autogrocery.chain.protocol import Facts, UpEvent, up_subject
from tests.chain.processes import (
    CLI,
    PASSWORD,
    Client,
    Process,
    environment,
    hub_pid,
    in_flight,
    ledger,
    movements,
    newest_event,
    register,
)
from tests.chain.proxy import Proxy
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(170)

SKUS = ["BRD-001", "BRD-002", "DAI-001", "MEA-001", "PRO-001", "PAR-001"]
STORE_OPTIONS = [
    "-o", "robots.pick_time=0.002",
    "-o", "chain.heartbeat=0.5",
    "-o", "auth.bcrypt_cost=4",
]  # fmt: skip


async def enroll(hq: Path, store_id: str, out: Path, hub: str | None = None) -> Path:
    args = ["central", "enroll", store_id, "--data-dir", str(hq), "--out", str(out)]
    args += ["--hub", hub] if hub else []
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=environment(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    return out


def store(name: str, tmp: Path, join: Path) -> Process:
    args = ["run", "--headless", "--port", "0", "--data-dir", str(tmp / name), "--join", str(join)]
    return Process(name, [*args, *STORE_OPTIONS])


async def shopper(http: aiohttp.ClientSession, url: str, name: str, stop: asyncio.Event) -> int:
    """A fridge ordering back to back until told to stop (or its store goes away)."""
    placed = 0
    rng = random.Random(name)
    with contextlib.suppress(aiohttp.ClientError, AssertionError):
        device = await register(http, url, name)
        while not stop.is_set():
            items = [{"sku": sku, "quantity": 1} for sku in rng.sample(SKUS, 2)]
            status, preview = await device.call("POST", "/api/orders/preview", {"items": items})
            if status == 201:
                await device.call("POST", f"/api/orders/{preview['order_id']}/confirm")
                placed += 1
            await asyncio.sleep(0.05)
    return placed


async def test_the_chain_keeps_every_promise_through_cuts_kills_and_outages(tmp_path: Path) -> None:
    hq = tmp_path / "hq"
    proxy = await Proxy("127.0.0.1", 0).start()
    central = Process(
        "central",
        ["central", "run", "--headless", "--port", "0", "--leaf-port", "0",
         "--data-dir", str(hq), "-o", f"central.leaf_advertise={proxy.address}",
         "-o", "auth.bcrypt_cost=4", "-o", "central.store_timeout=3"],
    )  # fmt: skip
    stores: dict[str, Process] = {}
    http = aiohttp.ClientSession()
    stop_shopping = asyncio.Event()
    shoppers: list[asyncio.Task[int]] = []
    try:
        await central.start("head office running")
        host, port = central.said["leaf_listen"].rsplit(":", 1)
        proxy.target = (host, int(port))
        north_join = await enroll(hq, "north", tmp_path / "north.join")  # through the proxy
        south_join = await enroll(
            hq, "south", tmp_path / "south.join", hub=f"nats-leaf://127.0.0.1:{port}"
        )
        stores["north"] = await store("north", tmp_path, north_join).start("running; API on")
        stores["south"] = await store("south", tmp_path, south_join).start("running; API on")
        hq_ops = await Client(http, central.url, "admin", PASSWORD).login()

        async def both_up() -> bool:
            found = (await hq_ops.get("/api/chain/stores"))["stores"]
            return {s["store_id"]: s["status"] for s in found} == {"north": "up", "south": "up"}

        await eventually(both_up, within=60)
        for name, process in stores.items():
            for n in range(2):
                shoppers.append(
                    asyncio.create_task(shopper(http, process.url, f"{name}-{n}", stop_shopping))
                )

        # a transfer north -> south; once north holds it, its link is cut
        status, transfer = await hq_ops.call(
            "POST",
            "/api/chain/transfers",
            {
                "from_store": "north",
                "to_store": "south",
                "items": [{"sku": "DAI-002", "quantity": 25}],
            },
        )
        assert status == 201, transfer
        tid = transfer["transfer_id"]
        north_ops = await Client(http, stores["north"].url, "admin", PASSWORD).login()
        await eventually(lambda: _has(north_ops, f"/api/ops/transfers/{tid}"), within=30)
        proxy.sever()
        await eventually(lambda: _link(north_ops, connected=False), within=30)
        await asyncio.sleep(1.0)  # north sells and ships, cut off
        stores["north"].kill()  # between a commit and the leaf's ack, somewhere
        stores["north"] = await store("north", tmp_path, north_join).start("running; API on")
        north_ops = await Client(http, stores["north"].url, "admin", PASSWORD).login()
        shoppers.append(
            asyncio.create_task(shopper(http, stores["north"].url, "north-2", stop_shopping))
        )
        await asyncio.sleep(1.0)

        # a catalog version while south is down
        await stores["south"].stop()
        status, version = await hq_ops.call(
            "POST",
            "/api/chain/catalog",
            {"products": [{"sku": "BRD-002", "price": "3.99", "name": "Seeded rye"}]},
        )
        assert status == 201, version
        stores["south"] = await store("south", tmp_path, south_join).start("running; API on")
        shoppers.append(
            asyncio.create_task(shopper(http, stores["south"].url, "south-2", stop_shopping))
        )

        # heal north's link, and kill the hub while north's backlog goes over
        proxy.heal()
        await eventually(lambda: _link(north_ops, connected=True), within=30)
        pid = hub_pid(hq)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(2.0)
        stop_shopping.set()
        placed = sum(await asyncio.gather(*shoppers))
        assert placed > 20

        # caught up: each store's events all applied at the head office. Not before the
        # stores are done: an order confirmed as the shoppers stopped, or the transfer
        # shelved at south, ends with events (and stock) after an outbox seen empty.
        south_ops = await Client(http, stores["south"].url, "admin", PASSWORD).login()
        await eventually(lambda: _transfer(hq_ops, tid, "RECEIVED"), within=60)
        for name, ops in (("north", north_ops), ("south", south_ops)):
            await eventually(lambda name=name: in_flight(tmp_path / name) == 0, within=60)
            await eventually(lambda ops=ops: _caught_up(ops), within=90)

        # Every event a store has made by now is applied, each once: its highest seq
        # applied reaches the store's newest, and as many were applied as that seq
        # counts. (Heartbeats go on every 0.5 s: more may be applied by the time we read.)
        for name in ("north", "south"):
            newest = newest_event(tmp_path / name)
            reached = await eventually(
                lambda name=name, newest=newest: _applied_through(hq_ops, name, newest), within=30
            )
            assert reached["events_applied"] == reached["last_seq"], (name, reached, newest)
        # the head office's stock per store and SKU is that store's own ledger
        for name in ("north", "south"):
            books = ledger(tmp_path / name)
            for sku, on_hand in books.items():
                seen = await hq_ops.get(f"/api/chain/stock?sku={sku}")
                held = {s["store_id"]: s["on_hand"] for s in seen["stores"]}
                assert held.get(name) == on_hand, (name, sku, held, on_hand)
        # the transfer moved stock exactly once on each side
        out = movements(tmp_path / "north", tid)
        into = movements(tmp_path / "south", tid)
        assert {t for _, t, _ in out} == {"TRANSFER_OUT"}
        assert {t for _, t, _ in into} == {"TRANSFER_IN"}
        assert -sum(d for _, _, d in out) == sum(d for _, _, d in into) == 25
        done = await hq_ops.get(f"/api/chain/transfers/{tid}")
        assert [(i["sku"], i["shipped"], i["received"]) for i in done["items"]] == [
            ("DAI-002", 25, 25)
        ]
        # south, down when it was published, holds the catalog version
        link = await south_ops.get("/api/ops/chain")
        assert link["catalog_version"] == version["version"]
        south_listed = {s["store_id"]: s for s in (await hq_ops.get("/api/chain/stores"))["stores"]}
        assert south_listed["south"]["catalog_version"] == version["version"]

        # north's credentials cannot speak for south: an event claiming south, put into
        # north's own stream, is refused at the head office and counted against north
        before = {s["store_id"]: s for s in (await hq_ops.get("/api/chain/events/stats"))["stores"]}
        forged = newest_event(tmp_path / "south") + 1000
        await _forge(tmp_path / "north", "north", "south", forged)

        async def refused() -> bool:
            now = {
                s["store_id"]: s for s in (await hq_ops.get("/api/chain/events/stats"))["stores"]
            }
            return now["north"]["refused"] > before["north"]["refused"]

        await eventually(refused, within=30)
        now = {s["store_id"]: s for s in (await hq_ops.get("/api/chain/events/stats"))["stores"]}
        assert now["south"]["last_seq"] < forged  # nothing was applied as south's
    except AssertionError:
        await _diagnose(http, central, stores)
        raise
    finally:
        stop_shopping.set()
        for task in shoppers:
            task.cancel()
        await asyncio.gather(*shoppers, return_exceptions=True)
        for process in stores.values():
            await process.stop()
        await central.stop()
        await proxy.close()
        await http.close()


async def _diagnose(
    http: aiohttp.ClientSession, central: Process, stores: dict[str, Process]
) -> None:
    """What each side says, printed when the drill fails (pytest shows it)."""
    with contextlib.suppress(Exception):
        hq = await Client(http, central.url, "admin", PASSWORD).login()
        print("stores:", await hq.get("/api/chain/stores"))
        print("stats:", await hq.get("/api/chain/events/stats"))
        for name, process in stores.items():
            ops = await Client(http, process.url, "admin", PASSWORD).login()
            print(name, await ops.get("/api/ops/chain"))
    for process in (central, *stores.values()):
        print(f"--- {process.name}:", "".join(process.log[-40:]))


async def _has(ops: Client, path: str) -> bool:
    return (await ops.call("GET", path))[0] == 200


async def _link(ops: Client, *, connected: bool) -> bool:
    return (await ops.get("/api/ops/chain"))["hub_connected"] is connected


async def _caught_up(ops: Client) -> bool:
    link = await ops.get("/api/ops/chain")
    return link["hub_connected"] and link["outbox_pending"] == 0


async def _applied_through(ops: Client, store_id: str, seq: int) -> dict[str, Any] | None:
    """The head office's counts for `store_id` once its highest seq applied is `seq` or
    more; None before."""
    for stats in (await ops.get("/api/chain/events/stats"))["stores"]:
        if stats["store_id"] == store_id and stats["last_seq"] >= seq:
            return dict(stats)
    return None


async def _transfer(ops: Client, tid: str, status: str) -> bool:
    return (await ops.get(f"/api/chain/transfers/{tid}"))["status"] == status


async def _forge(data: Path, through: str, claiming: str, seq: int) -> None:
    """Publish, on `through`'s own leaf, an event that says it is `claiming`'s."""
    ports = next((data / "chain" / "leaf").glob("nats-server_*.ports"))
    client = orjson.loads(ports.read_bytes())["nats"][0]
    nc = await nats.connect(client)
    try:
        event = UpEvent(claiming, seq, "heartbeat", 0.0, Facts(on_hand_units=1))
        await nc.jetstream().publish(
            up_subject(through, "heartbeat"),
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": f"{claiming}:{seq}"},
        )
    finally:
        await nc.close()

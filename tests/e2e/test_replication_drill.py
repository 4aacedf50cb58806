"""Replication drill: orders flow while Litestream replicates the store to a directory;
the machine is lost (the store and its Litestream killed with -9 at once, the data dir
deleted); `restore --from-replica` and a new start bring it back. Everything
acknowledged more than the window before the loss is there, nothing is doubled, the
books balance, replays still answer, and the loss window is measured."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.orders_load import Load, items, login
from tests.e2e.server import start_server, stop_quietly
from tests.helpers import check_invariants
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(150)

SYNC_INTERVAL = 1.0
# Litestream reads the WAL every quarter of the sync interval and ships every interval;
# an upload to a directory takes milliseconds. So an acknowledged order older than this
# at the loss must be in the replica.
WINDOW = SYNC_INTERVAL * 1.25 + 0.5
LOAD_SECONDS = 6.0  # several shipments to the replica before the loss
ROOT = Path(__file__).resolve().parents[2]


async def test_lose_the_machine_restore_from_the_replica_and_lose_only_the_window(
    tmp_path: Path,
) -> None:
    data, replica = tmp_path / "store", tmp_path / "replica"
    settings = (
        f"replicate.url={replica}",
        f"replicate.sync_interval={SYNC_INTERVAL}",
        "robots.pick_time=0.02",
    )
    server = start_server(data, *settings)
    load = Load(server.url)
    try:
        async with aiohttp.ClientSession() as http:
            await load.register(http)
            stop = asyncio.Event()
            flowing = asyncio.create_task(load.run(http, stop, limit=2000))
            began = time.monotonic()
            await eventually(
                lambda: time.monotonic() - began > LOAD_SECONDS or flowing.done(),
                within=60,
                every=0.05,
            )
            # The machine is lost: Litestream and the store die in the same instant.
            litestream = int((data / "litestream" / "litestream.pid").read_text())
            lost_at = time.time()
            os.kill(litestream, signal.SIGKILL)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(10)
            stop.set()
            await flowing
    finally:
        stop_quietly(server)
    await eventually(lambda: _gone(litestream), within=10, every=0.05)
    acks = [ack for ack in load.acks if ack.at <= lost_at]
    shutil.rmtree(data)

    restored = _cli("restore", "--from-replica", "--data-dir", str(data), *_o(settings))
    assert restored.returncode == 0, restored.stderr
    assert "restored the replica" in restored.stdout

    server = start_server(data, *settings)
    try:
        async with aiohttp.ClientSession() as http:
            found = await _orders(http, server.url, load)
            missing = [ack for ack in acks if ack.order_id not in found]
            confirmed = {a.order_id for a in acks if a.kind == "confirm"}
            unconfirmed = [
                a for a in acks if a.kind == "confirm" and found.get(a.order_id) == "PREVIEWED"
            ]
            lost = missing + unconfirmed
            window = lost_at - min((ack.at for ack in lost), default=lost_at)
            rate = len(acks) / (lost_at - acks[0].at)
            print(
                f"\nreplication drill: {len(acks)} acknowledgements ({rate:.0f}/s), "
                f"{len(lost)} lost, all within {window:.2f}s before the loss "
                f"(sync_interval {SYNC_INTERVAL}s)"
            )
            assert window <= WINDOW, f"lost what was acknowledged {window:.2f}s before the loss"
            assert len(acks) - len(lost) > 100, "the replica should hold most of the orders"
            # Replays still answer: the first answer again, not a second order.
            early = [a for a in acks if a.kind == "preview" and a.at < lost_at - WINDOW][:20]
            await _replays(http, server.url, load, early)
            # The orders confirmed in time finish once (recovery resumes their tasks).
            await _until_final(http, server.url, load, confirmed - {a.order_id for a in lost})
            replication = await _readyz(http, server.url)
            assert replication["running"], replication
            async with http.get(f"{server.url}/metrics") as r:
                metrics = await r.text()
            assert "autogrocery_replication_up 1.0" in metrics
            assert "autogrocery_replication_lag_seconds " in metrics
    finally:
        stop_quietly(server)
    check_invariants(data)


def _o(settings: tuple[str, ...]) -> list[str]:
    return [arg for setting in settings for arg in ("-o", setting)]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return subprocess.run(
        [sys.executable, "-m", "autogrocery", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return True
    return state == "Z"


async def _orders(http: aiohttp.ClientSession, url: str, load: Load) -> dict[str, str]:
    """Every order of the drill's fridges in the restored store, by id: its status. The
    token key was lost with the machine: each fridge logs in again."""
    found: dict[str, str] = {}
    for name in load.tokens:
        token = await login(http, url, name, f"{name}-pw1")
        load.tokens[name] = token
        cursor = None
        while True:
            query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
            async with http.get(
                f"{url}/api/orders{query}", headers={"Authorization": f"Bearer {token}"}
            ) as r:
                assert r.status == 200
                page = await r.json()
            found.update({o["order_id"]: o["status"] for o in page["orders"]})
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return found


async def _replays(http: aiohttp.ClientSession, url: str, load: Load, acks: list) -> None:
    for ack in acks:
        fridge, k = ack.key.split("-o")
        name = f"fridge-{fridge.removeprefix('f')}"
        async with http.post(
            f"{url}/api/orders/preview",
            json={"items": items(int(fridge.removeprefix("f")), int(k))},
            headers={"Authorization": f"Bearer {load.tokens[name]}", "Idempotency-Key": ack.key},
        ) as r:
            assert r.status == 201, await r.text()
            assert r.headers.get("Idempotent-Replayed") == "true"
            assert (await r.json())["order_id"] == ack.order_id


async def _until_final(
    http: aiohttp.ClientSession, url: str, load: Load, order_ids: set[str]
) -> None:

    async def finished() -> bool:
        found = await _orders(http, url, load)
        return all(found.get(oid) in ("COMPLETED", "CANCELLED") for oid in order_ids)

    await eventually(finished, within=60, what="the confirmed orders to finish", every=0.2)


async def _readyz(http: aiohttp.ClientSession, url: str) -> dict:
    async with http.get(f"{url}/readyz") as r:
        return dict((await r.json())["replication"])

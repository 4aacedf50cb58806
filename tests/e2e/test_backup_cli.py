"""`autogrocery backup` of a store taking orders, and `autogrocery restore` of it into
another data dir: the restored store holds every order the copy held (no more, no
less), its tokens and keys, replays still answer, and work in flight finishes once.
A restore never writes beside a live store, nor over a store's files unasked."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.orders_load import Load, items
from tests.e2e.server import start_server, stop_quietly
from tests.helpers import check_invariants
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
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


async def test_back_up_a_store_under_load_and_restore_it_elsewhere(tmp_path: Path) -> None:
    data, copy, elsewhere = tmp_path / "store", tmp_path / "backup", tmp_path / "restored"
    server = start_server(data, "robots.pick_time=0.02")
    load = Load(server.url, fridges=4)
    try:
        async with aiohttp.ClientSession() as http:
            await load.register(http)
            stop = asyncio.Event()
            flowing = asyncio.create_task(load.run(http, stop, limit=2000))
            await eventually(lambda: len(load.acks) >= 200, within=60, every=0.05)
            # analytics writes its CSV behind (a second at most): a store that has run
            # that long has one, and the backup must take it
            await eventually(lambda: (data / "latency.csv").exists(), within=30, every=0.05)
            before = len(load.acks)
            began = time.time()
            made = await asyncio.to_thread(cli, "backup", str(copy), "--data-dir", str(data))
            ended = time.time()
            during = [a for a in load.acks[before:] if began <= a.at <= ended]
            stop.set()
            await flowing
            tokens = dict(load.tokens)
    finally:
        stop_quietly(server)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backed up {data} into {copy}")
    print(f"\nbackup under load: {made.stdout.strip()}; {len(during)} acknowledged meanwhile")
    manifest = json.loads((copy / "MANIFEST.json").read_text())
    assert {f["path"] for f in manifest["files"]} >= {"jwt.key", "latency.csv"}
    assert not any(name.endswith(("-wal", "-shm", ".lock")) for name in os.listdir(copy))
    with sqlite3.connect(copy / "autogrocery.db") as conn:
        copied = {row[0] for row in conn.execute("SELECT order_id FROM orders")}

    done = cli("restore", str(copy), "--data-dir", str(elsewhere))
    assert done.returncode == 0, done.stderr
    server = start_server(elsewhere, "robots.pick_time=0.02")
    try:
        async with aiohttp.ClientSession() as http:
            # The token key came along: a token from before the backup still opens.
            headers = {"Authorization": f"Bearer {tokens['fridge-0']}"}
            async with http.get(f"{server.url}/api/orders?limit=500", headers=headers) as r:
                assert r.status == 200
            early = [a for a in load.acks if a.kind == "preview" and a.order_id in copied][:10]
            for ack in early:
                n, k = (int(part) for part in ack.key.removeprefix("f").split("-o"))
                async with http.post(
                    f"{server.url}/api/orders/preview",
                    json={"items": items(n, k)},
                    headers={
                        "Authorization": f"Bearer {tokens[f'fridge-{n}']}",
                        "Idempotency-Key": ack.key,
                    },
                ) as r:
                    assert r.status == 201
                    assert r.headers.get("Idempotent-Replayed") == "true"
                    assert (await r.json())["order_id"] == ack.order_id
            await _settled(elsewhere)
    finally:
        stop_quietly(server)
    with sqlite3.connect(elsewhere / "autogrocery.db") as conn:
        restored = {row[0] for row in conn.execute("SELECT order_id FROM orders")}
    assert restored == copied  # replays made no new order
    assert len(copied) >= 100
    check_invariants(elsewhere)


async def _settled(data: Path) -> None:
    """Until no order the robots work on is left (recovery resumed what was in flight)."""

    def none_in_flight() -> bool:
        with sqlite3.connect(data / "autogrocery.db") as conn:
            left = conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'PROCESSING'")
            return bool(left.fetchone()[0] == 0)

    await eventually(none_in_flight, within=60, what="orders in flight to finish", every=0.1)


def test_restore_refuses_a_live_store_and_a_store_unless_forced(tmp_path: Path) -> None:
    data, copy = tmp_path / "store", tmp_path / "backup"
    server = start_server(data)
    try:
        assert cli("backup", str(copy), "--data-dir", str(data)).returncode == 0
        live = cli("restore", str(copy), "--data-dir", str(data), "--force")
        assert live.returncode == 2
        assert live.stderr.startswith(f"autogrocery: a store is running on {data}")
        assert live.stderr.count("\n") == 1
        again = cli("backup", str(copy), "--data-dir", str(data))
        assert again.returncode == 2
        assert "is not an empty directory" in again.stderr
    finally:
        stop_quietly(server)
    key = (data / "jwt.key").read_bytes()
    (data / "jwt.key").write_bytes(b"a newer key")
    unforced = cli("restore", str(copy), "--data-dir", str(data))
    assert unforced.returncode == 2
    assert "holds a store already" in unforced.stderr
    assert unforced.stderr.count("\n") == 1
    assert (data / "jwt.key").read_bytes() == b"a newer key"  # untouched
    forced = cli("restore", str(copy), "--data-dir", str(data), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (data / "jwt.key").read_bytes() == key
    (aside,) = data.glob("replaced-*")
    assert (aside / "jwt.key").read_bytes() == b"a newer key"
    assert (aside / "autogrocery.db").is_file()


def test_a_damaged_backup_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    data, copy = tmp_path / "store", tmp_path / "backup"
    server = start_server(data)
    stop_quietly(server)
    assert cli("backup", str(copy), "--data-dir", str(data)).returncode == 0
    (copy / "jwt.key").write_bytes(b"tampered")
    target = tmp_path / "elsewhere"
    done = cli("restore", str(copy), "--data-dir", str(target))
    assert done.returncode == 2
    assert "jwt.key is missing or damaged" in done.stderr
    assert not (target / "autogrocery.db").exists()
    nothing = cli("restore", str(tmp_path), "--data-dir", str(target))
    assert nothing.returncode == 2
    assert "is not a backup (no MANIFEST.json)" in nothing.stderr

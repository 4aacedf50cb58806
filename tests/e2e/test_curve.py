"""CurveZMQ: only authorized clients connect; no clear-text ZeroMQ on a public address."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.app import start_system
from autogrocery.store.db import DB_NAME
from tests.conftest import ConfigFactory
from tests.helpers import check_invariants, csv_order_ids, eventually, wait_final
from tests.remote import (
    Spawner,
    csv_lines,
    metrics_endpoint,
    online,
    robots_endpoint,
    zmq_overrides,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    with Spawner(tmp_path) as spawner:
        yield spawner


def autogrocery(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autogrocery", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")},
    )


def test_keys_creates_a_store_pair_and_client_bundles_once(tmp_path: Path) -> None:
    result = autogrocery("keys", "robots", "analytics", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    keys = tmp_path / "keys"
    assert str(keys / "store.key_secret") in result.stdout
    assert f"--keys {keys / 'clients' / 'robots'}" in result.stdout
    for name in ("robots", "analytics"):
        bundle = keys / "clients" / name
        assert {p.name for p in bundle.iterdir()} == {
            "client.key",
            "client.key_secret",
            "store.key",
        }
        assert (keys / "authorized" / f"{name}.key").read_text() == (
            bundle / "client.key"
        ).read_text()
    secret = (keys / "store.key_secret").read_text()
    again = autogrocery("keys", "robots", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 0
    assert "(kept)" in again.stdout
    assert (keys / "store.key_secret").read_text() == secret


async def test_with_curve_on_only_authorized_clients_get_work_and_metrics(
    make_config: ConfigFactory, spawn: Spawner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    made = autogrocery("keys", "robot", "analytics", "rogue", "--data-dir", str(data), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    keys = data / "keys"
    (keys / "authorized" / "rogue.key").unlink()  # a key pair the store does not admit
    config = make_config(*zmq_overrides(metrics="zmq"), "zmq.curve=true", data_dir=data)
    system = await start_system(config)
    csv = tmp_path / "remote.csv"
    try:
        endpoint = robots_endpoint(system)
        rogue = spawn.robot(endpoint, "bread", "rogue", keys=keys / "clients" / "rogue")
        plain = spawn.robot(endpoint, "bread", "plain")  # no keys at all
        spawn.robot(endpoint, "bread", "good", keys=keys / "clients" / "robot")
        spawn.analytics(metrics_endpoint(system), csv, keys=keys / "clients" / "analytics")
        await eventually(lambda: online(system, "bread"), within=30)
        skus = [i["sku"] for i in await system.catalog() if i["aisle"] == "bread"]
        ids = []
        for n in range(20):
            preview = await system.preview("fridge-1", [{"sku": skus[n % 5], "quantity": 1}])
            await system.confirm(preview["order_id"], "fridge-1")
            ids.append(preview["order_id"])
        final = await wait_final(system, ids, within=30)
        assert {view["status"] for view in final.values()} == {"COMPLETED"}
        assert [r["robot_id"] for r in await system.robots()] == ["good-1"]
        with sqlite3.connect(data / DB_NAME) as conn:
            pickers = {row[0] for row in conn.execute("SELECT DISTINCT robot_id FROM tasks")}
        assert pickers == {"good-1"}
        await eventually(lambda: _has_lines(csv, len(ids)), within=30)
        assert sorted(csv_order_ids(csv)) == sorted(ids)
        assert rogue.poll() is None  # refused, not crashed
        assert plain.poll() is None
        assert "registered" not in spawn.log_of(rogue)
        check_invariants(data, settled=False)
    finally:
        await system.stop()


async def _has_lines(csv: Path, n: int) -> bool:
    return len(csv_lines(csv)) >= n


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--headless", "-o", "transport.robots=zmq"],
            "zmq: refusing to bind tcp://0.0.0.0:5556 without CurveZMQ",
        ),
        (
            ["robot", "--aisle", "bread", "--connect", "tcp://192.0.2.1:5556"],
            "zmq: refusing to connect to tcp://192.0.2.1:5556 without CurveZMQ",
        ),
    ],
)
def test_clear_text_zmq_on_a_public_address_is_refused_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = autogrocery(
        *args,
        "-o",
        "zmq.robots_endpoint=tcp://0.0.0.0:5556",
        "--data-dir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "--insecure" in result.stderr
    assert not (tmp_path / DB_NAME).exists()

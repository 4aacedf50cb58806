"""CurveZMQ: only authorized clients connect; no clear-text ZeroMQ on a public address."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.store.db import DB_NAME
from autogrocery.transports.curve import client_keys
from autogrocery.transports.handshake import fingerprint
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.e2e.server import start_server, stop_quietly
from tests.helpers import check_invariants, csv_order_ids, line, wait_final
from tests.remote import (
    HEARTBEAT,
    Spawner,
    csv_lines,
    metrics_endpoint,
    online,
    robots_endpoint,
    zmq_overrides,
)
from tests.waiting import eventually, until

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
        skus = [i.sku for i in await system.levels() if i.aisle == "bread"]
        ids = []
        for n in range(20):
            preview = await system.preview("fridge-1", [line(skus[n % 5], 1)])
            await system.confirm(preview.order_id, "fridge-1")
            ids.append(preview.order_id)
        final = await wait_final(system, ids, within=30)
        assert {view.status for view in final.values()} == {"COMPLETED"}
        assert [r.robot_id for r in await system.robots()] == ["good-1"]
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
            "zmq: refusing to connect to tcp://192.0.2.1:5556 without CurveZMQ; pass --keys DIR",
        ),
        (
            ["analytics", "--connect", "tcp://192.0.2.1:5557", "--csv", "out/remote.csv"],
            "zmq: refusing to connect to tcp://192.0.2.1:5557 without CurveZMQ; pass --keys DIR",
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
    if args[0] != "run":  # a client turns CurveZMQ on with --keys: zmq.curve is the store's
        assert "zmq.curve" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no database, no CSV, no directory


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--connect", "tcp://192.0.2.1:5557"], "pass --keys DIR"),  # clear text, other host
        (["-o", "zmq.curve=true"], "pass --keys DIR"),  # curve on, but no keys
        (["--keys", "no-such-bundle"], "cannot read keys from no-such-bundle"),
        (["--connect", "bogus://x", "--insecure"], "'bogus://x': Protocol not supported"),
        (["--connect", "tcp://127.0.0.1", "--insecure"], "expected tcp://HOST:PORT"),
    ],
)
def test_analytics_creates_nothing_before_it_refuses(
    tmp_path: Path, args: list[str], said: str
) -> None:
    data = tmp_path / "data"
    for csv in ([], ["--csv", "out/remote.csv"]):
        result = autogrocery("analytics", *args, *csv, "--data-dir", str(data), cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith("autogrocery: zmq: "), result.stderr
        assert said in result.stderr
        assert list(tmp_path.iterdir()) == []  # neither the CSV nor its directory


@pytest.mark.parametrize(
    ("csv", "cause"), [("a-file/out.csv", "not a directory"), (".", "is a directory")]
)
def test_analytics_with_a_csv_it_cannot_write_says_so_in_one_line(
    tmp_path: Path, csv: str, cause: str
) -> None:
    (tmp_path / "a-file").write_text("")
    result = autogrocery("analytics", "--csv", csv, "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"autogrocery: cannot write {csv}: "), result.stderr
    assert cause in result.stderr
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_refused_robot_is_logged_once_by_the_store_counted_and_told_why(
    tmp_path: Path, spawn: Spawner
) -> None:
    data = tmp_path / "store"
    made = autogrocery("keys", "robot", "rogue", "--data-dir", str(data), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    keys = data / "keys"
    (keys / "authorized" / "rogue.key").unlink()
    rogue_key = client_keys(keys / "clients" / "rogue").public
    server = start_server(
        data,
        *zmq_overrides(),
        "zmq.curve=true",
        f"zmq.heartbeat_interval={HEARTBEAT}",
    )
    try:
        bound = server.logged("robot channel bound to")[0]["msg"]
        endpoint = bound.split()[4]
        rogue = spawn.robot(endpoint, "bread", "rogue", keys=keys / "clients" / "rogue")
        keyless = spawn.robot(endpoint, "bread", "keyless")
        good = spawn.robot(endpoint, "bread", "good", keys=keys / "clients" / "robot")
        until(lambda: "refused our CurveZMQ key" in spawn.log_of(rogue), within=30, every=0.05)
        until(
            lambda: "requires CurveZMQ: pass --keys DIR" in spawn.log_of(keyless),
            within=30,
            every=0.05,
        )
        until(lambda: "registered" in spawn.log_of(good), within=30, every=0.05)
        # the rogue keeps trying
        until(lambda: _refused(server.url, "key") >= 3, within=30, every=0.05)
        until(lambda: _refused(server.url, "handshake") >= 1, within=30, every=0.05)
        warned = server.logged("refused a CurveZMQ client")
        assert len(warned) == 1, warned  # once per peer, however often it tries
        assert warned[0]["level"] == "WARNING"
        assert "from 127.0.0.1" in warned[0]["msg"]
        assert fingerprint(rogue_key) in warned[0]["msg"]
        assert fingerprint(rogue_key) in spawn.log_of(rogue)
        assert "zmq.curve" not in spawn.log_of(keyless)
        assert "down or unreachable" not in spawn.log_of(rogue) + spawn.log_of(keyless)
        assert "registered" not in spawn.log_of(rogue) + spawn.log_of(keyless)
    finally:
        stop_quietly(server)


def test_an_analytics_refused_at_the_handshake_is_told_why_and_writes_no_csv(
    tmp_path: Path, spawn: Spawner
) -> None:
    data = tmp_path / "store"
    made = autogrocery("keys", "analytics", "--data-dir", str(data), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    keys = data / "keys"
    (keys / "authorized" / "analytics.key").unlink()  # a bundle the store no longer trusts
    server = start_server(data, *zmq_overrides(metrics="zmq"), "zmq.curve=true")
    try:
        bound = server.logged("metrics channel bound to")[0]["msg"]
        csv = tmp_path / "remote" / "latency.csv"
        rogue = spawn.analytics(bound.split()[4], csv, keys=keys / "clients" / "analytics")
        until(lambda: "refused our CurveZMQ key" in spawn.log_of(rogue), within=30, every=0.05)
        assert rogue.poll() is None  # it keeps trying: the key may be authorised later
        assert not csv.parent.exists()  # refused before it recorded anything
    finally:
        stop_quietly(server)


def _refused(url: str, cause: str) -> float:
    """The store's count of refused CurveZMQ handshakes on the robot channel (/metrics)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    prefix = f'autogrocery_zmq_refused_handshakes_total{{cause="{cause}",channel="robots"}} '
    values = [float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)]
    return values[0] if values else 0.0

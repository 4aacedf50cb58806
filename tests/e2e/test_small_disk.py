"""A real full disk: the store's data dir on a small tmpfs, filled by orders until the
store cannot write. It must refuse with 503 and Retry-After (never a 500, never an
actor death), say why on /readyz, lose nothing it acknowledged, and carry on by itself
once space is freed, giving the write-ahead log's space back to the disk.

Mounting a tmpfs needs root: CI runs as root (`.ci/run` sets AG_REQUIRE_TMPFS, so there
the test fails instead of skipping); elsewhere it skips and says why. SQLite's own size
limit (`PRAGMA max_page_count`, tests/actors/test_full_disk.py) covers the rest
unprivileged."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from autogrocery.store.db import DB_NAME
from autogrocery.store.shared import WAL_KEPT_BYTES
from tests.e2e.server import Server, start_server, stop_quietly
from tests.helpers import check_invariants, csv_order_ids
from tests.waiting import until

pytestmark = pytest.mark.timeout(180)

DISK = "12m"
LEFT_FREE = 2 << 20  # what the filler leaves for the store once it is running
PASSWORD = "small-disk-1"


@pytest.fixture
def small_disk() -> Iterator[Path]:
    mounted = Path(tempfile.mkdtemp(prefix="ag-small-disk-"))
    reason = None
    if os.geteuid() != 0:
        reason = "mounting a tmpfs needs root"
    else:
        made = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mounted)],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            reason = f"cannot mount a tmpfs: {made.stderr.strip()}"
    if reason is not None:
        mounted.rmdir()
        if os.environ.get("AG_REQUIRE_TMPFS"):
            pytest.fail(f"the small-disk test cannot run: {reason}")
        pytest.skip(f"the small-disk test needs a tmpfs: {reason}")
    try:
        yield mounted
    finally:
        subprocess.run(["umount", "-l", str(mounted)], check=False)
        with contextlib.suppress(OSError):
            mounted.rmdir()


class Device:
    def __init__(self, url: str) -> None:
        self.url = url
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return answer.status, dict(answer.headers), orjson.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, dict(refused.headers), orjson.loads(refused.read() or b"null")

    def sign_in(self) -> None:
        user = {"username": "fridge-disk", "password": PASSWORD}
        assert self.call("POST", "/api/auth/register", user)[0] == 201
        status, _, tokens = self.call("POST", "/api/auth/login", user)
        assert status == 200, tokens
        self.token = tokens["access_token"]

    def order(self) -> tuple[int, dict[str, str], Any]:
        line = {"items": [{"sku": "PAR-010", "quantity": 1}, {"sku": "BRD-001", "quantity": 1}]}
        status, headers, answer = self.call("POST", "/api/orders/preview", line)
        if status != 201:
            return status, headers, answer
        return self.call("POST", f"/api/orders/{answer['order_id']}/confirm")


def test_a_full_disk_refuses_with_503_loses_nothing_and_recovers_once_space_is_freed(
    small_disk: Path,
) -> None:
    server = start_server(small_disk / "store", "robots.pick_time=0")
    try:
        _fill_up_and_recover(server, small_disk)
    finally:
        stop_quietly(server)
    check_invariants(small_disk / "store")
    # The analytics CSV beside it, on the same full disk: every finished order once.
    with contextlib.closing(sqlite3.connect(small_disk / "store" / DB_NAME)) as db:
        finished = db.execute("SELECT order_id FROM orders WHERE status IN ('COMPLETED', 'FAILED')")
        assert sorted(csv_order_ids(small_disk / "store" / "latency.csv")) == sorted(
            row[0] for row in finished
        )


def _fill_up_and_recover(server: Server, disk: Path) -> None:
    device = Device(server.url)
    device.sign_in()
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler.write_bytes(b"\0" * max(0, free - LEFT_FREE))
    # nearly full: not ready before a write fails (less free than the WAL may need)
    until(
        lambda: "nearly full" in _checks(device).get("disk", ""),
        within=10,
        what="disk short on /readyz",
        every=0.2,
    )
    assert device.order()[0] == 202  # still taking work meanwhile

    acknowledged: list[str] = []
    refused: tuple[int, dict[str, str], Any] | None = None
    deadline = time.monotonic() + 90
    while refused is None:
        assert time.monotonic() < deadline, "the disk never filled"
        status, headers, answer = device.order()
        assert status < 500 or status == 503, (status, answer)
        if status == 202:
            acknowledged.append(answer["order_id"])
        elif status == 503:
            refused = (status, headers, answer)
    _, headers, problem = refused
    assert int(headers["Retry-After"]) >= 1
    assert headers["Content-Type"].startswith("application/problem+json")
    assert "try again" in problem["detail"]

    status, _, ready = device.call("GET", "/readyz")
    assert status == 503
    assert "full" in ready["checks"]["writes"], ready
    assert device.call("GET", "/healthz")[0] == 200  # full is not dead: no restart wanted
    assert not server.logged("died"), "a full disk is an expected condition, not a death"

    filler.unlink()  # an operator frees space
    until(lambda: device.call("GET", "/readyz")[0] == 200, within=15, what="ready again", every=0.2)
    for order_id in acknowledged:  # nothing acknowledged was lost
        until(
            lambda o=order_id: _final(device, o), within=30, what=f"{order_id} finished", every=0.2
        )
    assert device.order()[0] == 202  # and new work is taken again

    # The write-ahead log gives its space back instead of keeping its largest size.
    wal = disk / "store" / f"{DB_NAME}-wal"

    def wal_cut_back() -> bool:
        device.order()
        return wal.stat().st_size <= WAL_KEPT_BYTES

    until(wal_cut_back, within=20, what=f"the WAL back under {WAL_KEPT_BYTES} bytes", every=0.2)


def _checks(device: Device) -> dict[str, str]:
    checks: dict[str, str] = device.call("GET", "/readyz")[2]["checks"]
    return checks


def _final(device: Device, order_id: str) -> bool:
    status, _, order = device.call("GET", f"/api/orders/{order_id}")
    assert status == 200, order
    return order["status"] in ("COMPLETED", "FAILED")

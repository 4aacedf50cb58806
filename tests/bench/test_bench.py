"""`autogrocery bench` runs end to end, and its invariant check can fail."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from autogrocery.store.db import DB_NAME
from tests.e2e.server import ADMIN_PASSWORD, start_server, stop_quietly

pytestmark = pytest.mark.timeout(180)


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return subprocess.run(
        [sys.executable, "-m", "autogrocery", "bench", *args],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
        env={**clean, **(env or {})},
    )


def test_a_short_run_completes_orders_and_the_books_balance(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    result = bench(
        "--concurrency", "4", "--duration", "2", "--warmup", "0.5", "--json", str(report_file)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = orjson.loads(report_file.read_bytes())
    assert report["invariants"] == "ok"
    assert report["completed_orders"] > 0
    assert report["orders_per_s"] > 0
    assert report["errors"] == []
    assert report["transport"] == "memory"
    assert report["store_cpu_ms_per_order"] > 0
    assert set(report["mean_batch"]) >= {"stock", "fulfilment"}
    assert report["confirm_to_completed_ms"]["p99"] is not None
    assert report["store_peak_rss_mb"] > 0
    assert "completed orders/s" in result.stdout


def test_open_loop_over_zmq_robots(tmp_path: Path) -> None:
    result = bench("--rate", "50", "--duration", "2", "--warmup", "0.5", "--transport", "zmq")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "invariants           ok" in result.stdout


def test_the_check_fails_loudly_on_a_broken_store(tmp_path: Path) -> None:
    server = start_server(tmp_path / "store")
    try:
        with sqlite3.connect(server.data_dir / DB_NAME) as conn:  # a movement from nowhere
            conn.execute(
                "INSERT INTO movements (sku, type, delta, ref, user, at) "
                "VALUES ('BRD-001', 'ADJUST', 5, 'tampered', 'nobody', 0)"
            )
        result = bench(
            "--url",
            server.url,
            "--concurrency",
            "2",
            "--duration",
            "1",
            "--warmup",
            "0",
            env={"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )
    finally:
        stop_quietly(server)
    assert result.returncode == 1
    assert "INVARIANTS BROKEN" in result.stdout
    assert "BRD-001" in result.stdout


def test_against_a_store_whose_robots_are_down_it_reports_what_succeeded(
    tmp_path: Path,
) -> None:
    """Robots over ZeroMQ and none ever joined: every confirm is refused (503)."""
    server = start_server(
        tmp_path / "store",
        "transport.robots=zmq",
        "robots.per_aisle=0",
        "zmq.robots_endpoint=tcp://127.0.0.1:0",
    )
    report_file = tmp_path / "report.json"
    try:
        result = bench(
            "--url",
            server.url,
            "--concurrency",
            "4",
            "--duration",
            "1.5",
            "--warmup",
            "1",
            "--json",
            str(report_file),
            env={"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )
    finally:
        stop_quietly(server)
    assert result.returncode == 0, result.stdout + result.stderr
    report = orjson.loads(report_file.read_bytes())
    assert report["completed_orders"] == 0
    assert report["previews_ok"] > 0
    # One window for everything counted: no more refused confirms than previews (the
    # warmup's orders are in none of the counts)
    assert report["errors"][0]["count"] <= report["previews_ok"]
    assert report["preview_ms"]["p50"] is not None
    assert [(e["endpoint"], e["status"]) for e in report["errors"]] == [("confirm", "503")]
    assert report["transport"] == "zmq"
    assert report["previews_cancelled"] == report["errors"][0]["count"]
    assert report["invariants"] == "ok"  # nothing left reserved: the previews were given back
    assert "confirm       503" in result.stdout
    assert "devices ready" in result.stderr or "setting up 4 devices" in result.stderr


def test_a_store_that_restarts_mid_run_loses_no_completed_order(tmp_path: Path) -> None:
    """The bench rides out a restart: it reconnects its event streams and polls what it
    missed, so orders completed meanwhile are not counted as timeouts."""
    import threading
    import time

    data = tmp_path / "store"
    # Port 0; the restart takes the same port again, as a restarted store does: the bench
    # is given one URL. Between the stop and the restart another process could take the
    # port (the kernel may hand it to an outgoing connection); the restart would then fail
    # to start, saying the port is in use: a loud failure, never a wrong result.
    servers = [start_server(data)]
    port = int(servers[0].url.rsplit(":", 1)[1])
    report_file = tmp_path / "report.json"

    def completed() -> int:
        with contextlib.closing(sqlite3.connect(data / DB_NAME, timeout=10)) as db:
            query = "SELECT COUNT(*) FROM orders WHERE status = 'COMPLETED' AND kind = 'CUSTOMER'"
            return int(db.execute(query).fetchone()[0])

    def restart() -> None:
        # Mid-run: once the bench's devices are set up and ordering (their event streams
        # open), however long the setup took on this machine.
        deadline = time.monotonic() + 60
        while completed() < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop_quietly(servers[0])
        servers.append(start_server(data, port=port))

    restarter = threading.Thread(target=restart)
    restarter.start()
    try:
        result = bench(
            "--url",
            servers[0].url,
            "--concurrency",
            "4",
            "--duration",
            "6",
            "--warmup",
            "0",
            "--json",
            str(report_file),
            env={"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )
    finally:
        restarter.join()
        for server in servers:
            stop_quietly(server)
    assert result.returncode == 0, result.stdout + result.stderr
    report = orjson.loads(report_file.read_bytes())
    assert report["reconnects"] >= 4, "every device's event stream came back"
    timeouts = [e for e in report["errors"] if e["endpoint"] == "completion"]
    assert timeouts == []
    assert report["completed_orders"] > 0
    assert report["invariants"] == "ok"


def test_bad_arguments_are_refused_in_one_line() -> None:
    result = bench("--items", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "autogrocery bench: --items must be >= 1"


def _operator_call(url: str, token: str | None, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(url + path, data=orjson.dumps(body) if body else None)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return orjson.loads(answer.read())


def test_baskets_leave_out_products_without_stock_for_the_run(tmp_path: Path) -> None:
    """A store's long tail of products with a few units left: the bench's baskets
    leave them out (the report says how many SKUs were in play), so no preview is
    refused for stock and counted against the store."""
    server = start_server(tmp_path / "store")
    report_file = tmp_path / "report.json"
    try:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        token = _operator_call(server.url, None, "/api/auth/login", login)["access_token"]
        for sku in ("BRD-001", "DAI-001"):
            level = _operator_call(server.url, token, f"/api/ops/inventory?sku={sku}")["items"][0]
            waste = {"delta": -(level["available"] - 2), "reason": "WASTE"}
            _operator_call(server.url, token, f"/api/ops/stock/{sku}/adjust", waste)
        result = bench(
            "--url",
            server.url,
            *("--rate", "20", "--duration", "1.5", "--warmup", "0.5"),
            *("--json", str(report_file)),
            env={"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )
    finally:
        stop_quietly(server)
    assert result.returncode == 0, result.stdout + result.stderr
    report = orjson.loads(report_file.read_bytes())
    pool = report["basket_pool"]
    assert pool["skus"] == pool["of_skus"] - 2
    assert pool["orders_at_most"] == 40
    assert report["completed_orders"] > 0
    assert report["errors"] == []
    assert report["previews_refused"]["count"] == 0
    assert report["invariants"] == "ok"
    assert f"baskets from         {pool['skus']} of {pool['of_skus']} SKUs" in result.stdout

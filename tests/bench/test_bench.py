"""`autogrocery bench` runs end to end, and its invariant check can fail."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

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
    assert report["errors"] == {}
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


def test_bad_arguments_are_refused_in_one_line() -> None:
    result = bench("--items", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "autogrocery bench: --items must be >= 1"

"""The figures of issue 23's table for one store data dir, as a user meets them.

    python -m tools.scale_figures --data-dir DIR [--catalog FILE] [--starts 2] [--bench]
        [-o KEY=VALUE ...]

Starts `autogrocery run --headless` on DIR (with the bench's settings: robots that
pick in no time, bcrypt cost 10, quiet logs) and times each start to `/readyz`; the
first start of a new or freshly filled dir is the first start, the ones after are
restarts. After the last start: the idle resident set (VmRSS, 5 s after ready), then,
as the operator, `GET /api/catalog`, `GET /api/catalog?q=cola` (and three more:
קולה קטנה, a typo, a word's start) and
`GET /api/ops/inventory` (bytes, and the best of 3 times), and with `--bench`,
`autogrocery bench --url ... --concurrency 32 --duration 15` against it. Prints one
JSON object. A new DIR with `--catalog` gives the small store to compare with (the
bench's catalog: the shipped one with deep stock, `--catalog bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from autogrocery.bench.target import _bench_catalog
from autogrocery.config import load_config
from autogrocery.ports import free_port

SETTINGS = (
    "robots.pick_time=0",
    "log.level=WARNING",
    "auth.bcrypt_cost=10",
    "auth.login_ip_max_failures=1000",
    "api.max_connections_per_client=0",
)


def start(
    data_dir: Path, catalog: Path | None, password: str, options: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    args = [sys.executable, "-m", "autogrocery", "run", "--headless", "--port", str(port)]
    args += ["--data-dir", str(data_dir)]
    for setting in (*SETTINGS, *options, *([f"catalog.path={catalog}"] if catalog else [])):
        args += ["-o", setting]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    env["AUTOGROCERY_ADMIN_PASSWORD"] = password
    began = time.monotonic()
    log = (data_dir.parent / f"{data_dir.name}.log").open("ab")
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - began < 300:
        if process.poll() is not None:
            raise RuntimeError(f"the store exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return process, url, time.monotonic() - began
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)
    raise RuntimeError("the store was not ready within 300 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def call(
    url: str, token: str | None = None, body: dict[str, Any] | None = None
) -> tuple[bytes, float]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None)  # noqa: S310
    if body:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
        data = answer.read()
    return data, time.perf_counter() - began


def reads(url: str, password: str) -> dict[str, Any]:
    login, _ = call(f"{url}/api/auth/login", body={"username": "admin", "password": password})
    token = json.loads(login)["access_token"]
    found: dict[str, Any] = {}
    for name, path in (
        ("catalog", "/api/catalog"),
        ("catalog_q_cola", "/api/catalog?q=cola"),
        ("catalog_q_hebrew", "/api/catalog?q=%D7%A7%D7%95%D7%9C%D7%94%20%D7%A7%D7%98%D7%A0%D7%94"),
        ("catalog_q_typo", "/api/catalog?q=chocolat%20milc"),
        ("catalog_q_prefix", "/api/catalog?q=whole%20mi"),
        ("inventory", "/api/ops/inventory"),
    ):
        tries = [call(url + path, token) for _ in range(3)]
        found[name] = {
            "bytes": len(tries[0][0]),
            "items": len(json.loads(tries[0][0]).get("items", [])),
            "best_s": round(min(t for _, t in tries), 3),
            "all_s": [round(t, 3) for _, t in tries],
        }
    return found


def bench(url: str, password: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "AUTOGROCERY_ADMIN_PASSWORD": password}
    args = [sys.executable, "-m", "autogrocery", "bench", "--url", url, "--concurrency", "32"]
    args += ["--duration", "15", "--json", str(out)]
    subprocess.run(args, env=env, check=False, stdout=sys.stderr)  # noqa: S603
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scale_figures")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--catalog", help="a catalog file, or 'bench' (shipped, deep stock)")
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--bench", action="store_true")
    parser.add_argument(
        "-o", dest="options", action="append", default=[], help="a setting, KEY=VALUE"
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("AUTOGROCERY_ADMIN_PASSWORD", "figures-admin-23"),
        help="the operator's (admin's) password: set at the dir's first start",
    )
    args = parser.parse_args(argv)
    data_dir: Path = args.data_dir
    catalog: Path | None = None
    if args.catalog == "bench":
        catalog = data_dir.parent / f"{data_dir.name}.catalog.toml"
        _bench_catalog(load_config(env={}).catalog_file, catalog)
    elif args.catalog:
        catalog = Path(args.catalog)
    password: str = args.password
    result: dict[str, Any] = {"data_dir": str(data_dir), "starts_s": []}
    for number in range(args.starts):
        process, url, took = start(data_dir, catalog, password, tuple(args.options))
        result["starts_s"].append(round(took, 2))
        if number < args.starts - 1:
            stop(process)
    try:
        time.sleep(5)
        result["idle_rss_mb"] = rss_mb(process.pid)
        result["reads"] = reads(url, password)
        if args.bench:
            with tempfile.TemporaryDirectory() as temp:
                report = bench(url, password, Path(temp) / "bench.json")
            result["bench"] = report
        result["rss_after_mb"] = rss_mb(process.pid)
    finally:
        stop(process)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

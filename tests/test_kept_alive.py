"""A helper binary kept alive (`binaries.KeptAlive`, as nats-server and Litestream are):
launched again when it dies unasked, and never left running once stopped, even when the
stop comes while a relaunch is under way. Real child processes (`sleep`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from autogrocery.binaries import KeptAlive, alive


class Sleeper(KeptAlive):
    """Its first process dies at once; the relaunch waits for `gate` before it starts
    one that would live a minute."""

    def __init__(self) -> None:
        super().__init__("sleeper", (0.0,), 10.0)
        self.gate = threading.Event()
        self.relaunching = threading.Event()
        self.launched: list[subprocess.Popen[bytes]] = []

    def _launch(self, timeout: float) -> object:
        if self.launched:
            self.relaunching.set()
            self.gate.wait(timeout)
        command = ["sleep", "60"] if self.launched else ["true"]
        self._proc = subprocess.Popen(command)
        self.launched.append(self._proc)
        return self._proc

    def _last_error(self) -> str:
        return "no log"


def test_a_relaunch_under_way_when_stopped_leaves_nothing_running() -> None:
    kept = Sleeper()
    kept._launch(10.0)
    kept._keep_alive()
    try:
        assert kept.relaunching.wait(5), "the first process died and was not relaunched"
        kept.stop_process(0.5)  # the watcher is inside the relaunch: it cannot wait for it
        kept.gate.set()  # the relaunch goes on and starts its process after the stop
        deadline = time.monotonic() + 5
        while len(kept.launched) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        relaunched = kept.launched[-1]
        assert len(kept.launched) == 2
        deadline = time.monotonic() + 5
        while relaunched.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert relaunched.poll() is not None, "a process launched after the stop kept running"
        assert kept.restarts == 0  # a relaunch that was stopped is not a restart
    finally:
        for proc in kept.launched:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)


def test_a_process_that_dies_unasked_is_launched_again() -> None:
    kept = Sleeper()
    kept.gate.set()
    kept._launch(10.0)
    kept._keep_alive()
    try:
        deadline = time.monotonic() + 5
        while kept.restarts < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert kept.restarts == 1
        assert kept.launched[-1].poll() is None  # the relaunched one runs
    finally:
        kept.stop_process(2.0)
        for proc in kept.launched:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    assert all(proc.poll() is not None for proc in kept.launched)


def test_a_store_that_exits_right_after_a_stop_leaves_no_relaunched_binary() -> None:
    """The stop comes before the relaunch has even started its process; the process
    that stopped it then exits at once. Its watcher is a daemon thread: the stop must
    wait for it, or the binary outlives the store (it runs in a session of its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.kept_alive_child"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = alive(pid)
    if left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "the relaunched binary kept running after the store exited"

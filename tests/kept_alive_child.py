"""Run by tests/test_kept_alive.py in a process of its own: a helper binary whose relaunch
is under way (and slow to come up) when the process stops it and exits. Prints the pid
of the process the relaunch started, then exits."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from autogrocery.binaries import KeptAlive


class SlowStart(KeptAlive):
    """Its first process dies at once; the relaunch takes a while before it starts one
    that would live a minute, then waits for it to come up, as nats-server's does."""

    def __init__(self) -> None:
        super().__init__("slow-start", (0.0,), 5.0)
        self.relaunching = threading.Event()
        self.started: list[int] = []

    def _launch(self, timeout: float) -> object:
        first = not self.started
        if not first:
            self.relaunching.set()
            time.sleep(0.3)  # work before the process exists
        self._proc = subprocess.Popen(["true"] if first else ["sleep", "60"])
        self.started.append(self._proc.pid)
        if not first:
            deadline = time.monotonic() + 2.0  # waiting for it to say it is up
            while time.monotonic() < deadline and not self.stopping():
                time.sleep(0.05)
        return self._proc

    def _last_error(self) -> str:
        return "no log"


def main() -> None:
    kept = SlowStart()
    kept._launch(5.0)
    kept._keep_alive()
    if not kept.relaunching.wait(5):
        sys.exit("the first process died and was not relaunched")
    kept.stop_process(0.5)
    print(kept.started[-1], flush=True)


if __name__ == "__main__":
    main()

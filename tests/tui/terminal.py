"""Run an `autogrocery` command in a pseudo-terminal (so it sees a TTY), read what it
draws, type keys into it."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path


class Terminal:
    def __init__(
        self, args: list[str], cwd: Path, env: dict[str, str], size: tuple[int, int]
    ) -> None:
        master, slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.master = master
        self.output = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autogrocery", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env | {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)},
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)

    def read(self, timeout: float = 0.1) -> None:
        while select.select([self.master], [], [], timeout)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the other side closed
                return
            if not chunk:
                return
            self.output += chunk
            timeout = 0.0

    def wait_for(self, text: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        wanted = text.encode()
        while wanted not in self.output:
            if time.monotonic() > deadline:
                tail = self.output[-2000:].decode(errors="replace")
                raise AssertionError(f"{text!r} not shown within {within}s; last output: {tail}")
            if self.process.poll() is not None:
                self.read(0.2)
                if wanted in self.output:
                    return
                raise AssertionError(f"exited with {self.process.returncode} before {text!r}")
            self.read()

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_exit(self, within: float = 20.0) -> int:
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {within}s")
            self.read()
        self.read(0.2)
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        os.close(self.master)

"""A real head office (`autogrocery central run --headless`) as a subprocess on free
ports, with a store enrolled, for the dashboard's command-line and web tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

ADMIN_PASSWORD = "head-office-password-1"
CLI = [sys.executable, "-m", "autogrocery"]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return env | {"AUTOGROCERY_ADMIN_PASSWORD": ADMIN_PASSWORD}


@dataclass
class HeadOffice:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path


@contextmanager
def head_office(data_dir: Path, *stores: str, within: float = 60.0) -> Iterator[HeadOffice]:
    """`central run` until the block ends (SIGTERM), with `stores` enrolled."""
    args = ["central", "run", "--headless", "--port", "0", "--leaf-port", "0"]
    args += ["--data-dir", str(data_dir), "-o", "auth.bcrypt_cost=4"]
    process = subprocess.Popen(
        [*CLI, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment(),
        text=True,
    )
    try:
        assert process.stderr is not None
        url, said, deadline = "", [], time.monotonic() + within
        while not url:
            assert time.monotonic() < deadline, "".join(said)
            line = process.stderr.readline()
            assert line, "central run exited:\n" + "".join(said)
            said.append(line)
            if line.startswith("{") and "head office running" in line:
                url = orjson.loads(line)["url"]
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep it flowing
        for store in stores:
            out = str(data_dir / f"{store}.join")
            enrolled = subprocess.run(
                [*CLI, "central", "enroll", store, "--data-dir", str(data_dir), "--out", out],
                capture_output=True,
                text=True,
                env=environment(),
                timeout=60,
                check=False,
            )
            assert enrolled.returncode == 0, enrolled.stderr
        yield HeadOffice(process, url, data_dir)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stderr is not None:
            process.stderr.close()

"""A store with few file descriptors under a crowd of slow connections: it says at start
how many connections fit, answers the ones past that 503 at once instead of going
silent (but a probe still gets its answer), and serves again when the crowd leaves."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import log_entry
from tests.waiting import until

pytestmark = pytest.mark.timeout(90)

FILES = 256  # the store's open-file limit (soft and hard): room for 128 connections


def _few_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILES, FILES))


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_a_store_short_of_descriptors_stays_reachable_under_a_crowd(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    argv = [sys.executable, "-m", "autogrocery", "run", "--headless", "--port", "0"]
    argv += ["--data-dir", str(tmp_path / "data"), "-o", "api.header_timeout=60"]
    argv += ["-o", "api.max_connections_per_client=0"]  # the crowd is on one address
    store = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_few_files,
    )
    reader: threading.Thread | None = None
    try:
        lines, reader = _until_listening(store)
        url = lines[-1]["url"]
        host, port = url.removeprefix("http://").rsplit(":", 1)
        assert any("open-file limit" in entry["msg"] for entry in lines), lines
        crowd: list[socket.socket] = []
        try:
            for _ in range(FILES + 50):  # more than the store has descriptors for
                sock = socket.create_connection((host, int(port)), timeout=5)
                crowd.append(sock)
                with contextlib.suppress(ConnectionError):  # refused ones are closed
                    sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the rest
            started = time.monotonic()
            late = socket.create_connection((host, int(port)), timeout=5)
            late.sendall(b"GET /api/catalog HTTP/1.1\r\nHost: store\r\n\r\n")
            answer = late.recv(4096)
            late.close()
            assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
            assert b"Retry-After:" in answer
            assert time.monotonic() - started < 3.0  # told at once, not left hanging
            probe = socket.create_connection((host, int(port)), timeout=5)
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: store\r\n\r\n")
            answer = probe.recv(4096)
            probe.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]  # a liveness probe
        finally:
            for sock in crowd:
                sock.close()
        until(
            lambda: _status(url + "/healthz") == 200,
            within=10,
            what="/healthz reachable again after the crowd left",
            every=0.1,
        )
        assert any("connection limit reached" in entry["msg"] for entry in lines)
        store.terminate()
        assert store.wait(timeout=10) == 0
    finally:
        if store.poll() is None:
            store.kill()
            store.wait()
        if reader is not None:
            reader.join(timeout=10)
        if store.stderr is not None:
            store.stderr.close()


def _until_listening(
    store: subprocess.Popen[str],
) -> tuple[list[dict[str, str]], threading.Thread]:
    """The store's log lines up to the one with its URL; later lines are appended to
    the same list as they come (a thread keeps reading, so the store never blocks)."""
    assert store.stderr is not None
    lines: list[dict[str, str]] = []
    deadline = time.monotonic() + 30
    while not lines or "url" not in lines[-1]:
        line = store.stderr.readline()
        assert line, f"the store exited: {lines}"
        assert time.monotonic() < deadline, "the store did not start listening"
        lines.append(log_entry(line))
    reader = threading.Thread(
        target=lambda: lines.extend(log_entry(x) for x in store.stderr or ()), daemon=True
    )
    reader.start()
    return lines, reader

"""Two hosts on one machine, for the multi-host drill: two network namespaces joined by a
veth pair (iproute2), and a way to run the test's own code inside one of them.

    store namespace  198.18.1.1 ──veth── 198.18.1.2  robots namespace

198.18.0.0/15 is the range set aside for network tests (RFC 2544): no real network uses
it. Nothing is added to the machine's own namespace, so drills of concurrent test runs
cannot collide; the names carry the test process's pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from typing import Any, TypeVar

STORE_IP = "198.18.1.1"
ROBOTS_IP = "198.18.1.2"
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if result.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None if they can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "making network namespaces needs root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    probe = f"agprobe{os.getpid()}"
    try:
        ip("netns", "add", probe)
    except OSError as exc:
        return str(exc)
    with contextlib.suppress(OSError):
        ip("netns", "delete", probe)
    return None


class Hosts:
    """The two namespaces and the link between them; deleted on exit (which deletes the
    veth pair with them)."""

    def __init__(self) -> None:
        tag = f"ag{os.getpid()}"
        self.store, self.robots = f"{tag}-store", f"{tag}-robots"
        self._store_end, self._robots_end = f"{tag}s"[:15], f"{tag}r"[:15]

    def __enter__(self) -> Hosts:
        ip("netns", "add", self.store)
        try:
            ip("netns", "add", self.robots)
            ip("link", "add", self._store_end, "netns", self.store, "type", "veth",
               "peer", "name", self._robots_end, "netns", self.robots)  # fmt: skip
            for ns, end, address in (
                (self.store, self._store_end, STORE_IP),
                (self.robots, self._robots_end, ROBOTS_IP),
            ):
                ip("-n", ns, "addr", "add", f"{address}/24", "dev", end)
                ip("-n", ns, "link", "set", end, "up")
                ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        for ns in (self.robots, self.store):
            with contextlib.suppress(OSError):
                ip("netns", "delete", ns)

    def exec(self, ns: str) -> tuple[str, ...]:
        """The prefix that runs a command in namespace `ns`."""
        return ("ip", "netns", "exec", ns)

    def link(self, up: bool) -> None:
        """Take the link between the hosts down, or bring it back."""
        ip("-n", self.store, "link", "set", self._store_end, "up" if up else "down")

    def run_inside(self, ns: str, main: Callable[[], T], timeout: float) -> T:
        """Run `main()` on a thread that has entered namespace `ns`: the sockets it opens
        are that host's (a namespace is per thread; the test's own thread stays put)."""
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                _enter(ns)
                outcome["value"] = main()
            except BaseException as exc:  # handed to the test's thread
                outcome["error"] = exc

        thread = threading.Thread(target=target, name=f"in-{ns}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the drill did not finish within {timeout:.0f}s")
        if "error" in outcome:
            raise outcome["error"]
        value: T = outcome["value"]
        return value


def _enter(ns: str) -> None:
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        setns = getattr(os, "setns", None)  # Python 3.12+
        if setns is not None:
            setns(fd, CLONE_NEWNET)
            return
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {ns}: {os.strerror(errno)}")
    finally:
        os.close(fd)

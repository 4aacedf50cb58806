"""A real PostgreSQL server for the tests: Debian's binaries (`apt install postgresql`,
which `.ci/run` does), a cluster made by initdb in a temp dir, listening on 127.0.0.1 on
a free port, stopped and removed at the end. PostgreSQL refuses to run as root, so as
root the cluster belongs to, and runs as, the `postgres` user the package made. Each
test gets a database of its own (`database`).

Not skipped when missing: a machine without PostgreSQL fails these tests with a line
that says how to get it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

HOW = "apt install postgresql (or set AUTOGROCERY_PG_BIN to a dir with initdb and postgres)"


def bin_dir() -> Path:
    """Where initdb and postgres are: $AUTOGROCERY_PG_BIN, PATH, or Debian's newest."""
    given = os.environ.get("AUTOGROCERY_PG_BIN")
    if given:
        return Path(given)
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise RuntimeError(f"the PostgreSQL tests need PostgreSQL's server: {HOW}")
    return Path(found[-1]).parent


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    def __init__(self, *, fsync: bool = False) -> None:
        self.fsync = fsync  # off for tests (nothing to lose); on for a benchmark's figures
        self.bin = bin_dir()
        self.user = None if os.geteuid() != 0 else "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="autogrocery-pg-"))
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._databases = 0

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if self.user is not None:
            try:
                owner = pwd.getpwnam(self.user)
            except KeyError:
                raise RuntimeError(f"as root, the PostgreSQL tests need its user: {HOW}") from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        data = self.root / "data"
        initdb: list[str | Path] = [
            self.bin / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
        ]
        subprocess.run(
            [*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"],
            user=self.user,
            group=self.user,
            extra_groups=[] if self.user else None,
            check=True,
            capture_output=True,
            timeout=120,
        )
        self._launch()

    def restart(self) -> None:
        """Stop the server (its clients' connections cut) and start it again."""
        self._halt()
        self._launch()

    def _launch(self) -> None:
        data, log = self.root / "data", self.root / "server.log"
        server: list[str | Path] = [
            self.bin / "postgres",
            "-D",
            data,
            "-p",
            str(self.port),
            "-k",
            self.root,
        ]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    *server,
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"fsync={'on' if self.fsync else 'off'}",
                ],
                user=self.user,
                group=self.user,
                extra_groups=[] if self.user else None,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.admin_url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not start:\n{log.read_text(errors='replace')[-2000:]}"
                    ) from None
                time.sleep(0.1)

    def database(self, icu_locale: str | None = None) -> str:
        """A new, empty database (with an ICU locale's collation, if given); its URL."""
        self._databases += 1
        name = f"test_{self._databases}"
        how = f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}{how if icu_locale else ''}")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self._halt()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root)

    def _halt(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: clients cut
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

"""Starting on a bad data dir or a busy port, as a user runs it: one line naming the path
(or address) and the cause, exit status 2, no traceback, nothing changed. And
`autogrocery check`, which tells whether a store's database is sound."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from autogrocery.config import load_config
from autogrocery.domain.catalog import load_catalog
from autogrocery.store.db import DB_NAME, open_store
from tests.e2e.server import start_server, stop_quietly

pytestmark = pytest.mark.timeout(60)

# root writes read-only files anyway: drop the capabilities that let it, so the
# store meets the file's mode as any other user would.
AS_A_USER = (
    ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--") if os.geteuid() == 0 else ()
)


def autogrocery(
    *args: str, cwd: Path, prefix: Sequence[str] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "autogrocery", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=40,
        check=False,
        env=environ | (env or {}),
    )


def run(data_dir: Path, *more: str, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    return autogrocery(
        "run", "--headless", "--port", "0", "--data-dir", str(data_dir), *more,
        cwd=data_dir.parent if data_dir.parent.is_dir() else Path("/"),
        prefix=prefix,
    )  # fmt: skip


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    line = result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert line.endswith("\n"), line
    assert line.count("\n") == 1, line
    assert line.startswith("autogrocery: "), line
    assert "Traceback" not in line
    for word in words:
        assert word.lower() in line.lower(), (word, line)
    return line


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A data dir holding a store that was used: a database with its schema and catalog."""
    data = tmp_path / "data"
    open_store(data, load_catalog(load_config(env={}).catalog_file))
    return data


def _random_bytes(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


def _zeroed_header(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.write(bytes(100))


def _truncated(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.truncate(db.stat().st_size // 2)


@pytest.mark.parametrize("damage", [_random_bytes, _zeroed_header, _truncated])
def test_a_corrupt_database_stops_the_start_in_one_line(store: Path, damage: object) -> None:
    db = store / DB_NAME
    damage(db)  # type: ignore[operator]
    before = db.read_bytes()
    line = assert_one_line(run(store), str(db))
    assert "not a database" in line or "malformed" in line, line
    assert db.read_bytes() == before  # nothing was written over it


def test_a_read_only_database_stops_the_start(store: Path) -> None:
    db = store / DB_NAME
    db.chmod(0o444)
    assert_one_line(run(store, prefix=AS_A_USER), str(db), "read-only")


def test_a_data_dir_on_a_read_only_mount_stops_the_start(store: Path) -> None:
    # A read-only bind mount of the data dir, in a mount namespace of the store's own.
    namespace = ("unshare", "--mount") if os.geteuid() == 0 else ("unshare", "-rm")
    mount = ("sh", "-c", f"mount --bind -o ro '{store}' '{store}' && exec \"$@\"", "sh")
    line = assert_one_line(run(store, prefix=(*namespace, *mount)), str(store))
    assert "read-only" in line.lower(), line


def test_a_data_dir_whose_parent_is_a_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    data = tmp_path / "file" / "data"
    assert_one_line(run(data), str(data), "not a directory")


@pytest.mark.parametrize(
    ("csv", "cause"), [("a-dir", "is a directory"), ("a-file/latency.csv", "not a directory")]
)
def test_an_analytics_csv_that_cannot_be_written_stops_the_start(
    store: Path, csv: str, cause: str
) -> None:
    (store / "a-dir").mkdir()
    (store / "a-file").write_text("")
    path = store / csv
    line = assert_one_line(run(store, "-o", f"analytics.csv_path={path}"), str(path), cause)
    assert "analytics.csv_path" in line


@pytest.mark.parametrize("damage", [_random_bytes, _zeroed_header, _truncated])
def test_accounts_on_a_corrupt_database_says_so_in_one_line(store: Path, damage: object) -> None:
    db = store / DB_NAME
    damage(db)  # type: ignore[operator]
    result = autogrocery("accounts", "list", "--data-dir", str(store), cwd=store)
    assert_one_line(result, str(db), "accounts list")


@pytest.mark.parametrize("mode", [(), ("--simulate", "1")], ids=["headless", "simulator"])
def test_a_busy_port_is_reported_before_the_store_starts(
    tmp_path: Path, mode: tuple[str, ...]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "data"
        result = autogrocery(
            "run", "--headless", "--port", str(port), "--data-dir", str(data), *mode,
            cwd=tmp_path,
        )  # fmt: skip
    assert_one_line(result, f"127.0.0.1:{port}", "in use")
    assert not (data / DB_NAME).exists()  # bind first, fail first: no store was opened


def test_a_second_run_on_the_port_of_a_running_store_says_so_and_how_to_attach(
    tmp_path: Path,
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    server = start_server(first)
    try:
        port = int(server.url.rsplit(":", 1)[1])
        started = time.monotonic()
        result = run(tmp_path / "second", "--port", str(port))
        line = assert_one_line(
            result,
            f"127.0.0.1:{port}",
            "the port is taken",
            "in use",
            f"an autogrocery store answers at http://127.0.0.1:{port}",
            f"`autogrocery dashboard --url http://127.0.0.1:{port}`",
            "--port N",
        )
        assert time.monotonic() - started < 15, line  # the probe is short
        assert not (tmp_path / "second" / DB_NAME).exists()
    finally:
        stop_quietly(server)


def test_a_port_held_by_something_else_is_not_called_a_store(tmp_path: Path) -> None:
    with socket.socket() as taken:  # it takes connections and never answers
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = assert_one_line(
            run(tmp_path / "data", "--port", str(port)),
            f"127.0.0.1:{port}",
            "the port is taken",
            "does not answer as an autogrocery store",
            "--port N",
        )
        assert "dashboard --url" not in line


def test_check_says_ok_on_a_sound_store(store: Path) -> None:
    result = autogrocery("check", "--data-dir", str(store), cwd=store.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok"), result.stdout
    assert str(store / DB_NAME) in result.stdout


def test_check_names_what_is_wrong_with_a_damaged_store(store: Path) -> None:
    db = store / DB_NAME
    with sqlite3.connect(db) as conn:
        query = "SELECT rootpage FROM sqlite_master WHERE name = 'movements'"
        (root,) = conn.execute(query).fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as handle:  # scribble over one table's root page
        handle.seek((root - 1) * page_size + 8)
        handle.write(os.urandom(200))
    result = autogrocery("check", "--data-dir", str(store), cwd=store.parent)
    assert result.returncode == 1, (result.stdout, result.stderr)
    said = result.stdout + result.stderr
    assert str(db) in said
    assert "Traceback" not in said
    assert "ok" not in said.split()


@pytest.mark.parametrize("damage", [_random_bytes, _truncated])
def test_check_reports_an_unreadable_file_in_one_line(store: Path, damage: object) -> None:
    damage(store / DB_NAME)  # type: ignore[operator]
    result = autogrocery("check", "--data-dir", str(store), cwd=store.parent)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert str(store / DB_NAME) in result.stderr
    assert "Traceback" not in result.stderr


def test_check_on_a_dir_without_a_store_creates_nothing(tmp_path: Path) -> None:
    result = autogrocery("check", "--data-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert result.returncode == 1
    assert "no store" in result.stderr
    assert not (tmp_path / "none").exists()


def test_config_show_hides_secrets_and_shows_resolved_paths(tmp_path: Path) -> None:
    import tomllib

    secret = "a-very-secret-signing-key-of-40-bytes!!!"
    result = autogrocery(
        "config", "show", cwd=tmp_path,
        env={"AUTOGROCERY_AUTH__JWT_SECRET": secret, "XDG_DATA_HOME": str(tmp_path / "xdg")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout
    shown = tomllib.loads(result.stdout)  # still a config file a user can start from
    assert shown["store"]["data_dir"] == str(tmp_path / "xdg" / "autogrocery")
    assert shown["analytics"]["csv_path"] == str(tmp_path / "xdg" / "autogrocery" / "latency.csv")
    assert "jwt_secret" not in shown["auth"]
    assert "jwt_secret" in result.stdout  # said to be set, in a comment


def test_a_replica_in_the_data_dir_or_no_litestream_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inside = run(data, "-o", f"replicate.url={data}/replica")
    assert_one_line(inside, "replicate: the replica", "inside the data directory", str(data))
    missing = run(
        data, "-o", f"replicate.url={tmp_path}/replica", "-o", "replicate.litestream=/nope"
    )
    assert_one_line(missing, "replicate: no litestream found: /nope is not an executable")
    assert not (data / DB_NAME).exists()

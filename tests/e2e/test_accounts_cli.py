"""Passwords an operator can lose, and the way back: first-start passwords shown at start
(before anything else can hide them), `autogrocery accounts` on a stopped store, refused
in one line beside a running one, and a bootstrap password variable that is ignored
said so. Real `autogrocery` subprocesses over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(90)


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    return env | extra


@dataclass
class Store:
    process: subprocess.Popen[str]
    url: str
    said: list[str] = field(default_factory=list)  # the plain lines before it ran

    def kill(self) -> None:
        self.process.kill()
        self.stopped()

    def stopped(self) -> None:
        self.process.wait(10)
        if self.process.stderr is not None:
            self.process.stderr.close()


def start(data: Path, env: dict[str, str]) -> Store:
    args = ["run", "--headless", "--port", "0", "--data-dir", str(data)]
    args += ["-o", "auth.bcrypt_cost=4", "-o", "robots.pick_time=0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "autogrocery", *args],
        cwd=data.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    said = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        assert line, f"the store exited ({process.wait(5)}) before listening: {said}"
        if not line.startswith("{"):  # said to the operator, not logged
            said.append(line.rstrip("\n"))
            continue
        entry = json.loads(line)
        if "url" in entry:
            import threading

            threading.Thread(target=process.stderr.read, daemon=True).start()
            return Store(process, entry["url"], said)
    process.kill()
    raise AssertionError("the store did not listen within 30s")


def accounts(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autogrocery", "accounts", *args, "--data-dir", str(data)],
        cwd=data.parent,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=environment(),
    )


def login(url: str, username: str, password: str) -> int:
    body = json.dumps({"username": username, "password": password}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(f"{url}/api/auth/login", body, headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http://127.0.0.1)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_first_passwords_are_shown_at_start_and_a_lost_one_is_set_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = start(data, environment())
    try:
        shown = dict(
            line.removeprefix("autogrocery: created account ").split(" with password ")
            for line in store.said
            if "created account" in line
        )
        assert set(shown) == {"admin", "truck-1"}, store.said  # both, before it ran
        assert login(store.url, "admin", shown["admin"]) == 200

        listed = accounts(data, "list")  # reading is fine beside a running store
        assert listed.returncode == 0, listed.stderr
        assert "admin" in listed.stdout
        assert "truck-1" in listed.stdout

        refused = accounts(data, "set-password", "admin", stdin="new-admin-pass-1\n")
        assert refused.returncode == 1
        assert f"a store is running on {data} (pid {store.process.pid})" in one_line(refused)
        refused = accounts(data, "disable", "truck-1")
        assert refused.returncode == 1
        assert "POST /api/ops/accounts/truck-1/disable" in one_line(refused)
        assert login(store.url, "admin", shown["admin"]) == 200  # nothing changed

        second = subprocess.run(
            [sys.executable, "-m", "autogrocery", "run", "--headless", "--data-dir", str(data)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=environment(),
        )
        assert second.returncode == 2
        assert "a store is running on" in one_line(second)
    finally:
        store.kill()  # as a crash would: the passwords were shown at start

    changed = accounts(data, "set-password", "ADMIN", stdin="new-admin-pass-1\n")
    assert changed.returncode == 0, changed.stderr
    assert "admin: password set" in changed.stdout
    added = accounts(data, "add", "ops-2", "--role", "operator", stdin="ops-2-password\n")
    assert added.returncode == 0, added.stderr
    generated = accounts(data, "add", "truck-2", "--role", "truck", "--generate")
    assert generated.returncode == 0, generated.stderr
    truck_password = generated.stdout.split("new password for truck-2: ")[1].strip()
    assert accounts(data, "disable", "truck-1").returncode == 0

    store = start(data, environment())
    try:
        assert store.said == []  # nothing created, nothing to show
        assert login(store.url, "admin", "new-admin-pass-1") == 200
        assert login(store.url, "admin", shown["admin"]) == 401
        assert login(store.url, "ops-2", "ops-2-password") == 200
        assert login(store.url, "truck-2", truck_password) == 200
        assert login(store.url, "truck-1", shown["truck-1"]) == 401  # disabled
    finally:
        store.kill()
    listed = accounts(data, "list")
    rows = {line.split()[0]: line.split()[1:3] for line in listed.stdout.splitlines()[1:]}
    assert rows == {
        "admin": ["operator", "active"],
        "truck-1": ["truck", "disabled"],
        "ops-2": ["operator", "active"],
        "truck-2": ["truck", "active"],
    }


@pytest.mark.parametrize(
    ("args", "stdin", "code", "words"),
    [
        (["add", "Ops-2"], "ops-2-password\n", 1, "'ops-2' is taken"),
        (["add", "\u0430dmin-2"], "ops-2-password\n", 2, "username:"),
        (["add", "ops-3"], "short\n", 2, "password: at least 8 characters"),
        (["add", "ops-3"], "", 2, "no password on standard input"),
        (["set-password", "nobody-here"], "a-long-password\n", 1, "no account 'nobody-here'"),
        (["enable", "nobody-here"], "", 1, "no account 'nobody-here'"),
    ],
)
def test_bad_account_changes_fail_in_one_line_and_change_nothing(
    tmp_path: Path, args: list[str], stdin: str, code: int, words: str
) -> None:
    data = tmp_path / "data"
    start(data, environment(AUTOGROCERY_ADMIN_PASSWORD="admin-password-1")).kill()
    assert accounts(data, "add", "ops-2", stdin="ops-2-password\n").returncode == 0
    before = accounts(data, "list").stdout
    result = accounts(data, *args, stdin=stdin)
    assert result.returncode == code
    assert words in one_line(result)
    assert accounts(data, "list").stdout == before


def test_no_store_no_change(tmp_path: Path) -> None:
    result = accounts(tmp_path / "empty", "list")
    assert result.returncode == 1
    assert "no store in" in one_line(result)
    assert not (tmp_path / "empty").exists()


def test_the_printed_export_line_gives_a_shell_the_first_passwords(tmp_path: Path) -> None:
    """The quick start's `autogrocery run` prints the generated passwords with the line
    that puts them where the README's operator examples (and `autogrocery dashboard
    --url`) read them: pasted into a shell, it sets both variables."""
    store = start(tmp_path / "data", environment())
    try:
        exports = [line for line in store.said if line.lstrip().startswith("export ")]
        assert len(exports) == 1, store.said
        shell = subprocess.run(
            [
                "bash",
                "-c",
                exports[0] + '\nprintf "%s\\n" "$AUTOGROCERY_ADMIN_PASSWORD" '
                '"$AUTOGROCERY_TRUCK_PASSWORD"',
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=environment(),
        )
        admin, truck = shell.stdout.splitlines()
        assert login(store.url, "admin", admin) == 200
        assert login(store.url, "truck-1", truck) == 200
        assert f"autogrocery: created account admin with password {admin}" in store.said
    finally:
        store.kill()


def test_a_bootstrap_password_for_an_existing_account_is_said_to_be_ignored(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    env = environment(AUTOGROCERY_ADMIN_PASSWORD="admin-password-1")
    first = start(data, env)
    assert [line for line in first.said if "admin" in line] == []  # it was given, not made
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(15) == 0
    first.stopped()
    same = start(data, env)  # as from the shell the printed `export` line went into
    try:
        assert same.said == []  # the account's own password: nothing to say
    finally:
        same.kill()
    again = start(data, environment(AUTOGROCERY_ADMIN_PASSWORD="another-password-2"))
    try:
        warnings = [line for line in again.said if "warning" in line]
        assert len(warnings) == 1, again.said
        assert "AUTOGROCERY_ADMIN_PASSWORD is ignored" in warnings[0]
        assert login(again.url, "admin", "another-password-2") == 401
        assert login(again.url, "admin", "admin-password-1") == 200
    finally:
        again.kill()

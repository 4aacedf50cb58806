"""`autogrocery central run` and `central enroll` as an operator runs them: real
processes, one-line refusals with exit 2, a first start that prints the admin password
once, an enrolment the running head office takes at once (SIGHUP), a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson

from tests.waiting import eventually

CLI = [sys.executable, "-m", "autogrocery"]
RUN = ["central", "run", "--port", "0", "--leaf-port", "0", "--headless"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AUTOGROCERY_CONFIG": "", **(env or {})},
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_leaf_port_off_loopback_without_tls_is_refused_in_one_line(tmp_path: Path) -> None:
    done = cli(
        *RUN,
        "--data-dir",
        str(tmp_path),
        "--leaf-host",
        "0.0.0.0",  # noqa: S104
        "-o",
        "central.leaf_tls=false",
        "-o",
        "central.leaf_advertise=hq.example:7422",
    )
    assert done.returncode == 2
    line = one_line(done)
    assert "refusing to listen for stores' leaf links on 0.0.0.0:0 without TLS" in line
    assert not (tmp_path / "hub").exists()  # nothing started
    done = cli(*RUN, "--data-dir", str(tmp_path), "--host", "0.0.0.0")  # noqa: S104
    assert done.returncode == 2
    assert "central.leaf_advertise" in one_line(done)
    done = cli(*RUN, "--data-dir", str(tmp_path), "-o", "central.leaf_cert=/nope.pem")
    assert done.returncode == 2
    assert "central.leaf_key" in one_line(done)


def test_enroll_without_a_running_head_office(tmp_path: Path) -> None:
    data, out = str(tmp_path / "hq"), tmp_path / "north.join"
    args = ("central", "enroll", "north", "--data-dir", data, "-o", "central.leaf_port=7422")
    done = cli(*args, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "enrolled store north" in done.stdout
    assert "takes it when it starts" in done.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = cli(*args, "--out", str(tmp_path / "again.join"))
    assert again.returncode == 2
    assert "enrolled already; pass --rotate" in one_line(again)
    bad = cli("central", "enroll", "no/slash", "--data-dir", data)
    assert bad.returncode == 2
    assert "must be 1-32 letters" in one_line(bad)
    rotated = cli(*args, "--out", str(out), "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "gave new credentials to store north" in rotated.stdout


async def start(data: Path, *, admin_password: str | None = None) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "AUTOGROCERY_ADMIN_PASSWORD"}
    env["AUTOGROCERY_CONFIG"] = ""
    if admin_password is not None:
        env["AUTOGROCERY_ADMIN_PASSWORD"] = admin_password
    return await asyncio.create_subprocess_exec(
        *CLI,
        *RUN,
        "--data-dir",
        str(data),
        "-o",
        "auth.bcrypt_cost=4",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def running(proc: asyncio.subprocess.Process) -> tuple[str, str]:
    """(the API's URL, what the process said until it was running)."""
    assert proc.stderr is not None
    lines: list[str] = []
    async with asyncio.timeout(60):
        while True:
            line = (await proc.stderr.readline()).decode()
            assert line, "".join(lines)
            lines.append(line)
            if line.startswith("{") and "head office running" in line:
                return orjson.loads(line)["url"], "".join(lines)


async def test_run_enroll_while_running_and_stop(tmp_path: Path) -> None:
    data = tmp_path / "hq"
    proc = await start(data)
    assert proc.stderr is not None
    try:
        url, text = await running(proc)
        assert "created account admin with password" in text  # shown once, first start
        assert "export AUTOGROCERY_ADMIN_PASSWORD=" in text
        busy = cli(*RUN, "--data-dir", str(data))  # one head office per data dir
        assert busy.returncode == 2
        assert "is running on" in one_line(busy)
        done = await asyncio.to_thread(
            cli,
            "central",
            "enroll",
            "south",
            "--data-dir",
            str(data),
            "--out",
            str(tmp_path / "south.join"),
        )
        assert done.returncode == 0, done.stderr
        assert f"the running head office (pid {proc.pid}) takes it now" in done.stdout
        join = orjson.loads((tmp_path / "south.join").read_bytes())
        assert join["hub"][0].startswith("nats-leaf://127.0.0.1:")
        assert url.startswith("http://127.0.0.1:")

        async def reloaded() -> bool:
            return '"S_south"' in (data / "hub" / "hub.conf").read_text()

        await eventually(reloaded, within=20, every=0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(40):
            code = await proc.wait()
        assert code == 0, (await proc.stderr.read()).decode()
        assert time.monotonic() - started < 30
        assert await asyncio.to_thread(hub_gone, data)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_hub_left_behind_by_a_killed_central_is_stopped_at_the_next_start(
    tmp_path: Path,
) -> None:
    data = tmp_path / "hq"
    first = await start(data, admin_password="admin-password-1")
    try:
        await running(first)
        stray = await asyncio.to_thread(hub_pid, data)
        first.kill()  # kill -9: the hub runs in its own session and outlives it
        await first.wait()
        assert not await asyncio.to_thread(hub_gone, data, stray)
        second = await start(data, admin_password="admin-password-1")
        try:
            await running(second)
            assert await asyncio.to_thread(hub_gone, data, stray)
            assert await asyncio.to_thread(hub_pid, data) != stray
        finally:
            second.send_signal(signal.SIGTERM)
            async with asyncio.timeout(40):
                assert await second.wait() == 0
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()


def hub_pid(data: Path) -> int:
    """The hub nats-server's pid: its ports file (hub/nats-server_<pid>.ports)."""
    (found,) = (data / "hub").glob("nats-server_*.ports")
    return int(found.stem.split("_", 1)[1])


def hub_gone(data: Path, pid: int | None = None) -> bool:
    """The hub nats-server (its pid opens each line of hub.log) has exited."""
    if pid is None:
        pid = int((data / "hub" / "hub.log").read_text().split("]", 1)[0].lstrip("["))
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # reaped later
    except OSError:
        return True

"""/readyz tells the truth: the store must take a write, and the API's background tasks
must be running. A task that fails is logged and started again, never silently gone."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

import aiosqlite
import pytest

from autogrocery.api import tasks
from autogrocery.api.accounts import AuthTables
from autogrocery.api.state import STATE
from autogrocery.store.db import DB_NAME, transaction
from tests.api.conftest import Api, ApiFactory
from tests.waiting import eventually

T = TypeVar("T")


async def test_readyz_is_not_ready_while_the_store_cannot_be_written(api: Api) -> None:
    status, ready, _ = await api.call("GET", "/readyz")
    assert status == 200
    state = api.client.server.app[STATE]
    path = (api.config.data_path / DB_NAME).resolve()
    # Real read-only SQLite connections: what a store opened from a read-only file gets.
    uri = f"{path.as_uri()}?mode=ro"
    conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    writer = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    def write(work: Callable[[sqlite3.Connection], T]) -> T:
        with transaction(writer):
            return work(writer)

    read_only = AuthTables(conn, write, None)
    writable, state.tables = state.tables, read_only
    try:
        status, ready, response = await api.call("GET", "/readyz")
    finally:
        state.tables = writable
        await read_only.close()
        writer.close()
    assert status == 503
    assert ready["checks"]["store"].startswith("not writable"), ready
    assert "readonly" in ready["checks"]["store"]
    assert int(response.headers["Retry-After"]) >= 1


async def test_a_failing_background_task_is_logged_restarted_and_shown_in_readyz(
    make_api: ApiFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tasks, "FIRST_DELAY", 0.05)
    monkeypatch.setattr(tasks, "HEALTHY_AFTER", 0.3)
    calls: list[float] = []
    failing = True
    purge = AuthTables.forget_idempotency_before

    async def flaky(self: AuthTables, cutoff: float) -> int:
        calls.append(time.monotonic())
        if failing:
            raise OSError(5, "disk I/O error")
        return await purge(self, cutoff)

    monkeypatch.setattr(AuthTables, "forget_idempotency_before", flaky)
    caplog.set_level(logging.INFO)
    api = await make_api()

    async def not_ready() -> dict[str, str] | None:
        status, ready, _ = await api.call("GET", "/readyz")
        return ready["checks"] if status == 503 else None

    checks = await eventually(not_ready, within=10)
    assert "disk I/O error" in checks["task idempotency-purge"], checks
    assert checks["task metrics-tick"] == "ok"
    await eventually(lambda: _true(len(calls) >= 3), within=10)  # started again, and again
    failed = [r for r in caplog.records if "idempotency-purge" in r.getMessage()]
    assert failed, "the failure was not logged"
    assert all(r.levelno == logging.ERROR for r in failed)
    assert sum(r.exc_info is not None for r in failed) == 1  # one traceback, then lines

    failing = False  # the disk is back: the next start purges and stays up

    async def ready() -> bool:
        status, body, _ = await api.call("GET", "/readyz")
        return status == 200 and body["checks"]["task idempotency-purge"] == "ok"

    await eventually(ready, within=10)


async def _true(value: bool) -> bool:
    return value

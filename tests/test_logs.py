"""Log files rotate by size (log.max_bytes, log.backups), and with the dashboard the
store's log holds what an operator would read: a summary a minute, not a line per
request and per order state change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.cli.run_dashboard import _summaries
from autogrocery.config import ConfigError, load_config
from autogrocery.logs import configure_logging
from autogrocery.service.system import System
from tests.helpers import line
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_log_file_is_rotated_by_size(tmp_path: Path, restore_logging: None) -> None:
    config = load_config(env={}, overrides=["log.max_bytes=4096", "log.backups=2"])
    path = tmp_path / "autogrocery.log"
    configure_logging("INFO", "json", file=path, rotation=config.log)
    log = logging.getLogger("autogrocery.test")
    for n in range(500):
        log.info("line %d of a busy store", n)
    logging.getLogger().handlers[0].flush()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["autogrocery.log", "autogrocery.log.1", "autogrocery.log.2"]
    assert all((tmp_path / name).stat().st_size <= 4096 for name in files)
    assert "line 499 of a busy store" in path.read_text()


def test_rotation_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"log\.max_bytes"):
        load_config(env={}, overrides=["log.max_bytes=-1"])
    assert load_config(env={}).log.max_bytes == 10 * 1024 * 1024


async def test_the_store_summarises_each_minute(
    system: System, caplog: pytest.LogCaptureFixture
) -> None:
    preview = await system.preview("fridge-1", [line("BRD-001", 1)])
    await system.confirm(preview.order_id, "fridge-1")
    with caplog.at_level(logging.INFO, logger="autogrocery"):
        task = asyncio.create_task(_summaries(system, every=0.05))
        try:
            await eventually(
                lambda: any("last minute" in r.getMessage() for r in caplog.records),
                within=10,
                what="a summary line",
                every=0.05,
            )
        finally:
            task.cancel()
    summary = next(r.getMessage() for r in caplog.records if "last minute" in r.getMessage())
    assert "robots online" in summary
    assert "orders completed" in summary

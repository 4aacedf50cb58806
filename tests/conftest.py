"""Shared fixtures: a config on a temp data dir and a running System with real actors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from autogrocery.config import Config, load_config
from autogrocery.service.system import System
from autogrocery.wiring import start_system

ConfigFactory = Callable[..., Config]


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigFactory:
    """A config on a temp data dir, with instant robots unless told otherwise."""

    def build(*overrides: str, data_dir: Path | None = None) -> Config:
        base = [
            f"store.data_dir={data_dir or tmp_path / 'data'}",
            "robots.pick_time=0",
            "robots.retry_backoff=0.001",
            "robots.restart_delay=0.05",
            "log.format=text",
        ]
        return load_config(env={}, overrides=[*base, *overrides])

    return build


@pytest.fixture
def config(make_config: ConfigFactory) -> Config:
    return make_config("robots.per_aisle=2")


@pytest.fixture
async def system(config: Config) -> AsyncIterator[System]:
    running = await start_system(config, robot_seed=7)
    try:
        yield running
    finally:
        await running.stop()

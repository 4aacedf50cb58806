"""The cyclic collector pauses while a store starts (its heap only grows then), and
runs again once it serves, or once a start has failed."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.cli.run_start import StartupError, prepare, started
from tests.conftest import ConfigFactory


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # what `serve` froze belongs to this test's store, not the session
    gc.enable()


async def test_the_collector_runs_again_once_the_store_serves(make_config: ConfigFactory) -> None:
    config = make_config("api.port=0")
    assert gc.isenabled()
    async with started(config, prepare(config)) as store:
        assert store.url.startswith("http://127.0.0.1:")
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # the start's heap, out of the collector's way
    assert gc.isenabled()


async def test_the_collector_runs_again_after_a_start_that_failed(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    data = tmp_path / "lost"
    data.mkdir()
    (data / "jwt.key").write_text("a store lived here")  # and its database is gone
    config = make_config("api.port=0", data_dir=data)
    with pytest.raises(StartupError, match="is missing"):
        async with started(config, prepare(config)):
            pass
    assert gc.isenabled()

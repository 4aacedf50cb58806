"""The database file deleted or replaced while the store runs (issue 10, item 2)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autogrocery.domain.errors import Unavailable
from autogrocery.store.db import DB_NAME
from autogrocery.wiring import start_system
from tests.conftest import ConfigFactory
from tests.helpers import line
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_lost_database_file_stops_every_acknowledgement(
    make_config: ConfigFactory, how: str, tmp_path: Path
) -> None:
    config = make_config("robots.per_aisle=1")
    system = await start_system(config)
    try:
        order = await system.preview("fridge-1", [line("BRD-001", 1)])
        db = config.data_path / DB_NAME
        if how == "deleted":
            for path in config.data_path.glob(DB_NAME + "*"):
                path.unlink()
        else:  # another file moved into its place
            shutil.copy(db, tmp_path / "copy.db")
            (tmp_path / "copy.db").replace(db)
        with pytest.raises(Unavailable):  # checked before every commit
            await system.preview("fridge-1", [line("BRD-002", 1)])
        with pytest.raises(Unavailable):
            await system.confirm(order.order_id, "fridge-1")
        problems = system.problems()
        assert how in problems["store"]
        assert system.alive() is not None, "/healthz should fail: a restart is needed"
    finally:
        await system.stop()


async def test_the_watch_notices_within_a_second_without_any_write(
    make_config: ConfigFactory,
) -> None:
    config = make_config()
    system = await start_system(config)
    try:
        for path in config.data_path.glob(DB_NAME + "*"):
            path.unlink()

        async def noticed() -> bool:
            return "store" in system.problems()

        await eventually(noticed, within=3)
    finally:
        await system.stop()


def test_a_data_dir_whose_database_is_gone_is_refused_in_one_line_unless_init(
    make_config: ConfigFactory,
) -> None:
    config = make_config()
    data = config.data_path
    data.mkdir(parents=True)
    (data / "jwt.key").write_text("00" * 32)  # a store lived here
    args = [sys.executable, "-m", "autogrocery", "run", "--headless", "--port", "0"]
    args += ["--data-dir", str(data), "-o", "robots.pick_time=0"]
    refused = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert str(data / DB_NAME) in lines[0]
    assert "--init" in lines[0]
    assert not (data / DB_NAME).exists(), "nothing was created"


def test_init_starts_an_empty_store_where_the_database_was_lost(
    make_config: ConfigFactory,
) -> None:
    from autogrocery.domain.catalog import load_catalog
    from autogrocery.store.db import StoreError, open_store

    config = make_config()
    data = config.data_path
    data.mkdir(parents=True)
    (data / "jwt.key").write_text("00" * 32)
    products = load_catalog(config.catalog_file)
    with pytest.raises(StoreError):
        open_store(data, products)
    assert open_store(data, products, init=True) == data / DB_NAME
    assert (data / DB_NAME).exists()
    open_store(data, products)  # an existing database opens as always

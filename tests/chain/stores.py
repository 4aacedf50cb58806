"""Stores in a chain for tests: a join file, and a store's real link (leaf nats-server
and relay) started beside a System, as `run --join` does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from autogrocery.chain.joinfile import JoinFile
from autogrocery.chain.link import ChainLink, check
from autogrocery.config import Config
from autogrocery.service.system import System

NOWHERE = "nats-leaf://127.0.0.1:9"  # a hub that is never there: the link stays down


def write_join(path: Path, store_id: str, hub: str = NOWHERE, *, password: str = "pw") -> Path:
    JoinFile(store_id, (hub,), f"store-{store_id}", password, None).write(path)
    return path


@contextlib.asynccontextmanager
async def linked(config: Config, system: System) -> AsyncIterator[ChainLink]:
    """The store's leaf node and relay, as `run --join` starts them, until the block ends."""
    joining = check(config)
    assert joining is not None, "the config names no join file"
    link = await ChainLink.start(config, system, joining)
    try:
        yield link
    finally:
        await link.stop()

"""A store's link to its head office, as `run --join FILE` starts it: the join file and
the nats-server binary checked first (one line each when they cannot be used), then the
leaf node started and supervised beside the store, then the relay on its loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from autogrocery.chain.joinfile import JoinFile, read_join_file
from autogrocery.chain.leaf import leaf_config, leaf_dir
from autogrocery.chain.natsd import NatsServer, find_binary, stop_strays
from autogrocery.chain.relay import Relay
from autogrocery.config import Config
from autogrocery.service.system import System

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Joining:
    """What `run` checked before it opened the store."""

    join: JoinFile
    binary: Path


def check(config: Config) -> Joining | None:
    """The join file and the binary, or None for a store in no chain. Raises JoinFileError
    or NatsError, each one line."""
    path = config.join_file
    if path is None:
        return None
    join = read_join_file(path)
    binary = find_binary(config.chain.nats_server or None)
    return Joining(join, binary)


class ChainLink:
    def __init__(self, leaf: NatsServer, relay: Relay) -> None:
        self.leaf = leaf
        self.relay = relay

    @classmethod
    async def start(cls, config: Config, system: System, joining: Joining) -> ChainLink:
        loop = asyncio.get_running_loop()
        workdir = leaf_dir(config.data_path)
        leaf = NatsServer("leaf", workdir, leaf_config(joining.join, workdir), joining.binary)
        # A store killed with -9 leaves its leaf running (in a session of its own).
        await loop.run_in_executor(None, stop_strays, workdir, leaf.config_path)
        await loop.run_in_executor(None, leaf.start)
        relay = Relay(
            system, joining.join, leaf, config.chain.heartbeat, config.chain.retention_days
        )
        try:
            await relay.start()
        except BaseException:
            await loop.run_in_executor(None, leaf.stop)
            raise
        system.chain_status = relay.status
        system.chain_vitals = relay.vitals
        log.info(
            "chain: store %s joined its head office through its leaf node (pid %s)",
            joining.join.store_id,
            leaf.pid,
        )
        return cls(leaf, relay)

    async def stop(self) -> None:
        """The relay first (nothing half-published is marked sent), then the leaf."""
        await self.relay.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.leaf.stop)

"""The reconciler: the intake stream sources each enrolled store's current up stream.

Every `interval` (and when woken: a store enrolled), each store's leaf is asked, through
the head office's import of its JetStream API (`chain.api.<store>`), which streams it
holds. Its current up stream is the highest epoch `UP_<store>_<epoch>`: a leaf that lost
its stream makes a new epoch, because a source of a deleted and recreated stream stalls.
`CHAIN_IN` is updated in place (no restart) to source it; sources of older epochs stay
while their stream still exists (what is left in them still flows), and go when it is
gone. The same answer tells how far the store's stream goes (its lag at the head
office). A store whose leaf is not connected does not answer: it is skipped, and
looked at again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import nats.errors
from nats.js.api import ExternalStream, StreamSource
from nats.js.manager import JetStreamManager

from autogrocery.chain.protocol import INTAKE_STREAM, api_prefix, deliver_prefix, up_epoch

log = logging.getLogger(__name__)

ASK_TIMEOUT = 2.0  # seconds a store's leaf has to answer its JetStream API
QUIET_FAILURES = 3  # failures in a row before one is worth a warning

LeafSeen = Callable[[str, str, int], Awaitable[None]]


class Reconciler:
    def __init__(
        self,
        nc: Any,
        js: Any,
        stores: Callable[[], Awaitable[Sequence[str]]],
        leaf_seen: LeafSeen,
        interval: float,
    ) -> None:
        self.nc = nc
        self.js = js
        self._stores = stores
        self._leaf_seen = leaf_seen
        self.interval = interval
        self.wake = asyncio.Event()
        self.reached: dict[str, float] = {}  # store -> when its leaf last answered

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self.once()
                failures = 0
            except (nats.errors.Error, OSError) as exc:
                # The hub's JetStream API misses a beat while it reloads its config: say so
                # only when it lasts.
                failures += 1
                level = logging.WARNING if failures >= QUIET_FAILURES else logging.DEBUG
                log.log(
                    level,
                    "could not reconcile the intake stream's sources (%s: %s)",
                    type(exc).__name__,
                    exc,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()

    async def once(self) -> None:
        """One look at every store; one update of CHAIN_IN if a source must change."""
        info = await self.js.stream_info(INTAKE_STREAM)
        sources: list[StreamSource] = list(info.config.sources or [])
        wanted = list(sources)
        for store in await self._stores():
            streams = await self._up_streams(store)
            if streams is None:
                continue
            wanted = self._sources_for(store, streams, wanted)
        if [s.name for s in wanted] != [s.name for s in sources]:
            config = info.config
            config.sources = wanted
            await self.js.update_stream(config)
            log.info(
                "the intake stream now sources %s",
                ", ".join(s.name for s in wanted) or "nothing",
                extra={"sources": [s.name for s in wanted]},
            )

    async def _up_streams(self, store: str) -> dict[str, int] | None:
        """The store's up streams and the last sequence of each; None: no answer."""
        jsm = JetStreamManager(self.nc, prefix=api_prefix(store), timeout=ASK_TIMEOUT)
        try:
            infos = await jsm.streams_info()
        except (nats.errors.Error, TimeoutError) as exc:
            log.debug("store %s's leaf does not answer (%s)", store, exc)
            return None
        self.reached[store] = time.time()
        streams = {
            info.config.name: info.state.last_seq
            for info in infos
            if info.config.name and up_epoch(info.config.name, store) is not None
        }
        if streams:
            current = max(streams, key=lambda name: up_epoch(name, store) or 0)
            await self._leaf_seen(store, current, streams[current])
        return streams

    def _sources_for(
        self, store: str, streams: dict[str, int], sources: list[StreamSource]
    ) -> list[StreamSource]:
        """`sources` with the store's current up stream in, and its gone ones out."""
        kept = [s for s in sources if up_epoch(s.name or "", store) is None or s.name in streams]
        if not streams:
            return kept
        current = max(streams, key=lambda name: up_epoch(name, store) or 0)
        if all(s.name != current for s in kept):
            kept.append(
                StreamSource(
                    name=current,
                    external=ExternalStream(api=api_prefix(store), deliver=deliver_prefix(store)),
                )
            )
            log.info("store %s: sourcing its up stream %s", store, current)
        return kept

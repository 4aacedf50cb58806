"""The reconciler: each shard's intake stream sources the current up stream of each
store placed on that shard (and of no other store).

Every `interval` (and when woken: a store enrolled), each store's leaf is asked, through
the head office's import of its JetStream API (`chain.api.<store>`), which streams it
holds. Its current up stream is the highest epoch `UP_<store>_<epoch>`: a leaf that lost
its stream makes a new epoch, because a source of a deleted and recreated stream stalls.
Its shard's intake stream is updated in place (no restart) to source it; sources of
older epochs stay while their stream still exists (what is left in them still flows),
and go when it is gone. The same answer tells how far the store's stream goes (its lag
at the head office). A store whose leaf is not connected does not answer: it is
skipped, and looked at again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ExternalStream, StreamInfo, StreamSource
from nats.js.manager import JetStreamManager

from autogrocery.chain.protocol import (
    api_prefix,
    deliver_prefix,
    intake_stream,
    up_epoch,
    up_stream_store,
)

log = logging.getLogger(__name__)

ASK_TIMEOUT = 2.0  # seconds a store's leaf has to answer its JetStream API
ASKING_AT_ONCE = 32  # stores' leaves asked at the same time (one at a time: 1,000 x RTT)
QUIET_FOR = 5.0  # seconds of failing before it is worth a warning (then every 5 s)
# A source silent this long while its leaf answers is stalled (a healthy one hears from
# its leaf every few seconds, idle or not); restarted, at most once per STALLED.
STALLED = 10.0
# The hub's own JetStream API timing out this many times in a row (5 s each, its
# process alive) is a wedged hub, not a reload's missed beat (a fraction of a second):
# it is restarted, as a hub that exited would be.
UNANSWERED = 2

# (store, its current up stream, that stream's last sequence) of each store that answered
LeafSeen = Callable[[list[tuple[str, str, int]]], Awaitable[None]]


class Reconciler:
    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        placement: Callable[[], Awaitable[Mapping[str, int]]],
        leaf_seen: LeafSeen,
        interval: float,
        unanswered: Callable[[], Awaitable[None]] | None = None,
        intake_shards: Callable[[], Iterable[int]] = lambda: (),
    ) -> None:
        self.nc = nc
        self._unanswered = unanswered  # the hub's API timed out UNANSWERED times in a row
        self.js = js
        self._placement = placement  # each enrolled store's shard
        self._intake_shards = intake_shards  # every shard with a stream, stores or not
        self._leaf_seen = leaf_seen
        self.interval = interval
        self.wake = asyncio.Event()
        self._relinked: set[str] = set()
        self._restarted: dict[str, float] = {}  # source -> when it was last restarted

    def relinked(self, store: str) -> None:
        """The store's leaf (re)connected (a system event): look at it now, and restart
        its source. A source whose leaf went away notices only after its stall check
        (10 s, then a back-off: 20 s seen); removed and added again, it resumes at once,
        where it stopped (the intake stream remembers each source's position)."""
        self._relinked.add(store)
        self.wake.set()

    async def run(self) -> None:
        failing_since: float | None = None
        timeouts = 0  # the hub's API timed out on this many looks in a row
        warned = 0.0
        while True:
            try:
                await self.once()
                failing_since, timeouts = None, 0
            except (nats.errors.Error, OSError) as exc:
                # The hub's JetStream API misses a beat while it reloads its config: worth
                # a warning only when it lasts.
                now = time.monotonic()
                failing_since = failing_since or now
                timeouts = timeouts + 1 if isinstance(exc, nats.errors.TimeoutError) else 0
                if timeouts >= UNANSWERED and self._unanswered is not None:
                    timeouts = 0  # the restarted hub gets as many again
                    await self._unanswered()
                lasting = now - failing_since >= QUIET_FOR and now - warned >= QUIET_FOR
                warned = now if lasting else warned
                log.log(
                    logging.WARNING if lasting else logging.DEBUG,
                    "could not reconcile the intake stream's sources (%s: %s)",
                    type(exc).__name__,
                    exc,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()

    async def once(self) -> None:
        """One look at every store; a shard's intake stream updated if one of its sources
        must change."""
        placement = await self._placement()
        shards: dict[int, list[str]] = {shard: [] for shard in self._intake_shards()}
        for store, shard in placement.items():
            shards.setdefault(shard, []).append(store)
        for shard, stores in sorted(shards.items()):  # a shard of no store sources nothing
            try:
                info = await self.js.stream_info(intake_stream(shard))
            except nats.js.errors.NotFoundError:
                continue  # its applier makes it (a shard's first store was just enrolled)
            await self._reconcile(info, stores)

    async def _reconcile(self, info: StreamInfo, stores: list[str]) -> None:
        """One shard: its stream sources its `stores`' current up streams."""
        placed = set(stores)
        before = [s.name for s in info.config.sources or []]
        wanted: dict[str, StreamSource] = {  # by name, in the stream's order
            s.name: s
            for s in info.config.sources or []
            if s.name and up_stream_store(s.name) in placed
        }  # a store placed elsewhere (or gone) has no source here
        owned: dict[str, set[str]] = {}
        for name in wanted:
            owned.setdefault(up_stream_store(name) or "", set()).add(name)
        silent = {s.name: s.active for s in info.sources or []}
        restart: list[str] = []
        seen: list[tuple[str, str, int]] = []
        for store, streams in zip(stores, await self._ask_all(stores), strict=True):
            if streams is None:
                continue
            had = owned.get(store, set())
            for gone in had - set(streams):
                del wanted[gone]  # its stream is gone from the leaf
            if not streams:
                continue
            current = max(streams, key=lambda name: up_epoch(name, store) or 0)
            if current not in wanted:
                wanted[current] = StreamSource(
                    name=current,
                    external=ExternalStream(api=api_prefix(store), deliver=deliver_prefix(store)),
                )
                log.info("store %s: sourcing its up stream %s", store, current)
            seen.append((store, current, streams[current]))
            log.debug("store %s: %s, source silent %s ns", store, streams, silent.get(current))
            relinked = store in self._relinked
            self._relinked.discard(store)
            if current in had and (relinked or self._stalled(current, silent.get(current))):
                restart.append(current)
                self._restarted[current] = time.monotonic()
        if seen:
            try:
                await self._leaf_seen(seen)  # the leaves' positions: lag, for reports
            except Exception as exc:  # the pass's sourcing matters more than a report
                log.warning("could not record where %d leaves stand (%s)", len(seen), exc)
        config = info.config
        if restart:
            config.sources = [s for name, s in wanted.items() if name not in restart]
            await self.js.update_stream(config)
            log.info("restarting the sources %s (their leaf linked again)", ", ".join(restart))
        if restart or list(wanted) != before:
            config.sources = list(wanted.values())
            await self.js.update_stream(config)
            log.info(
                "the intake stream %s sources %d streams",
                config.name,
                len(wanted),
                extra={"stream": config.name, "sources": list(wanted)},
            )

    async def _ask_all(self, stores: list[str]) -> list[dict[str, int] | None]:
        """Each store's up streams (`_up_streams`), ASKING_AT_ONCE leaves at a time."""
        asking = asyncio.Semaphore(ASKING_AT_ONCE)

        async def ask(store: str) -> dict[str, int] | None:
            async with asking:
                return await self._up_streams(store)

        return await asyncio.gather(*(ask(store) for store in stores))

    def _stalled(self, source: str, active_ns: int | None) -> bool:
        """Its leaf answers (the caller asked it), but the source has not heard from it
        for STALLED seconds: after a hub restart a source may wait minutes (NATS backs
        off) unless restarted; a leaf link event missed while the hub was down does not
        say so either. Not again within STALLED of the last restart."""
        silent = active_ns is None or active_ns < 0 or active_ns / 1e9 > STALLED
        recent = time.monotonic() - self._restarted.get(source, float("-inf")) < STALLED
        if silent and not recent:
            log.info("the source %s is silent while its leaf answers: restarting it", source)
        return silent and not recent

    async def _up_streams(self, store: str) -> dict[str, int] | None:
        """The store's up streams and the last sequence of each; None: no answer."""
        jsm = JetStreamManager(self.nc, prefix=api_prefix(store), timeout=ASK_TIMEOUT)
        try:
            infos = await jsm.streams_info()
        except (nats.errors.Error, TimeoutError) as exc:
            log.debug("store %s's leaf does not answer (%s)", store, exc)
            return None
        streams = {
            info.config.name: info.state.last_seq
            for info in infos
            if info.config.name and up_epoch(info.config.name, store) is not None
        }
        return streams

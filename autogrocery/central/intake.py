"""An applier: a durable pull consumer (`central`) on one shard's intake stream
(`CHAIN_IN`, `CHAIN_IN_1`...); each shard has its own, on its own database thread.

Each fetched batch is checked, applied in ONE read-model transaction, then acknowledged
once, by its last message (the consumer's AckPolicy.ALL).
A crash before the commit redelivers the batch; after it, before the acks, the events
come again and are recognised by their ids (counted as duplicates, changed nothing).
The consumer hands out at most one batch at a time (max_ack_pending = batch), and a
batch whose transaction fails is retried as it is, kept alive on the hub meanwhile,
never skipped: so a store's events are applied in the order its stream holds them.

Each message must be the event of the store whose stream it came from
(`Nats-Stream-Source` → `UP_<store>_<epoch>`) and on that store's subject; anything
else is refused: counted against that store, dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)

from autogrocery.central.readmodel import Arrival, Outcome
from autogrocery.chain.protocol import INTAKE_CONSUMER, UpEvent, intake_stream, up_stream_store

log = logging.getLogger(__name__)

SOURCE_HEADER = "Nats-Stream-Source"
# "UP_north_1:2UW1oQF4 17 > > chain.up.north.stock 4Hfwa1jU": stream[:hash] seq ...
_SOURCE = re.compile(r"^(?P<stream>[^\s:]+)(?::\S*)?\s+(?P<seq>\d+)")
FETCH_WAIT = 1.0  # seconds a fetch waits for the first message
RETRY_MAX = 5.0  # seconds between two tries of a batch that could not be applied
INTAKE_MAX_AGE = 7 * 86_400.0  # applied events stay this long in CHAIN_IN (replays)
QUIET_FOR = 5.0  # seconds of failing (about) before it is worth a warning
STALE_AFTER = 30.0  # an applier that did not turn for this long is not alive

_decode = msgspec.json.Decoder(UpEvent).decode


def parse_source(header: str | None) -> tuple[str | None, int]:
    """(stream, sequence there) of a sourced message's `Nats-Stream-Source`."""
    found = _SOURCE.match(header or "")
    return (found["stream"], int(found["seq"])) if found else (None, 0)


def check(
    subject: str, data: bytes, source: str | None, received_at: float, stores: AbstractSet[str]
) -> Arrival:
    """What one intake message is: an enrolled store's own event, or a refusal."""
    stream, seq = parse_source(source)
    store = up_stream_store(stream) if stream else None
    owner = store if store in stores else None  # a set: a thousand stores, one look

    def refuse(why: str) -> Arrival:
        return Arrival(owner, stream, seq, received_at, None, why)

    if owner is None:
        return refuse(f"not from an enrolled store's up stream ({source or 'no source'})")
    try:
        event = _decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return refuse(f"not an UpEvent: {exc}")
    if event.store_id != owner:
        return refuse(f"claims store {event.store_id!r} but came from {stream}")
    if b"\\u0000" in data and _holds_nul(msgspec.to_builtins(event)):
        # PostgreSQL's text cannot hold one: the batch would fail there for ever.
        return refuse("a text in it holds a NUL character")
    parts = subject.split(".")
    if len(parts) < 4 or parts[:2] != ["chain", "up"] or parts[2] != owner:
        return refuse(f"on subject {subject}, not on chain.up.{owner}.>")
    return Arrival(owner, stream, seq, received_at, event)


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def intake_config(
    shard: int, sources: list[StreamSource] | None = None, replicas: int = 1
) -> StreamConfig:
    """A shard's intake stream: no subjects of its own (hub and leaf streams never listen
    on the same subjects), only its stores' up streams as sources; limits retention."""
    return StreamConfig(
        name=intake_stream(shard),
        storage=StorageType.FILE,
        sources=sources or [],
        max_age=INTAKE_MAX_AGE,
        num_replicas=replicas,
    )


@dataclass(frozen=True, slots=True)
class ShardState:
    """How one shard's applier stands (for /metrics and /readyz)."""

    shard: int
    stream: str
    pending: int  # messages in its intake stream not applied yet (as of its last fetch)
    behind: float  # seconds from the hub storing the oldest event not applied (0: none)
    applied: int  # events applied since the head office started


class DeliveryGap(Exception):
    """Messages were handed out to this applier and did not reach it."""


class Applier:
    """Runs in the chain worker's event loop; `apply` runs the model's transaction off it."""

    def __init__(
        self,
        shard: int,
        js: JetStreamContext,
        apply: Callable[[list[Arrival]], Awaitable[Outcome]],
        stores: Callable[[], Awaitable[AbstractSet[str]]],
        *,
        batch: int,
        ack_wait: float,
        applied: Callable[[Outcome], None] = lambda _: None,
        replicas: int = 1,
    ) -> None:
        self.shard = shard
        self.replicas = replicas
        self.stream = intake_stream(shard)
        self.js = js
        self._apply = apply
        self._stores = stores
        self.batch = batch
        self.ack_wait = ack_wait
        self._applied = applied
        self.turned = time.monotonic()  # the last turn of the loop (health)
        self.after_commit: Callable[[], None] | None = None  # tests: die before the acks
        self.pending = 0
        self.behind = 0.0
        self._waiting_since: float | None = None
        self.applied = 0
        self._delivered = 0  # the consumer's delivery sequence of the last message taken
        self._floor = 0  # the ack floor of a consumer this applier deleted to make again

    def state(self) -> ShardState:
        waiting = self._waiting_since  # a batch not applied yet: behind since its first
        behind = self.behind if waiting is None else max(0.0, time.time() - waiting)
        return ShardState(self.shard, self.stream, self.pending, behind, self.applied)

    async def ensure(self) -> int:
        """The intake stream and the durable consumer exist (made on first start, and
        again if the hub lost its JetStream store). Returns the consumer's delivery
        sequence as it stands: the next message handed out must be the one after it."""
        try:
            await self.js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self.js.add_stream(intake_config(self.shard, replicas=self.replicas))
            log.info("made the intake stream %s", self.stream)
        try:
            info = await self.js.consumer_info(self.stream, INTAKE_CONSUMER)
        except nats.js.errors.NotFoundError:
            # From where one this applier deleted stood, if making it again failed.
            await self.js.add_consumer(self.stream, self._consumer(after=self._floor))
            log.info("made the intake consumer %s on %s", INTAKE_CONSUMER, self.stream)
            return 0
        if info.config.ack_policy == AckPolicy.ALL and not info.num_ack_pending:
            return info.delivered.consumer_seq or 0  # nothing out: it stands where it should
        # Made again where it stood (its ack floor): a batch handed out to an applier that
        # died, or whose link broke, comes again first. Left as it was, the hub would hand
        # out newer events at once and the next acknowledgement (of all up to it) would
        # settle the unapplied batch too. Also a consumer of an older head office, made
        # with explicit acks (a consumer's ack policy cannot change). What comes twice,
        # the read model knows (duplicates, changing nothing).
        after = (info.ack_floor.stream_seq or 0) if info.ack_floor else 0
        self._floor = after
        await self.js.delete_consumer(self.stream, INTAKE_CONSUMER)
        await self.js.add_consumer(self.stream, self._consumer(after=after))
        log.info(
            "made the intake consumer on %s again from stream sequence %d (%d handed out, "
            "not acknowledged)",
            self.stream,
            after + 1,
            info.num_ack_pending or 0,
        )
        return 0

    def _consumer(self, after: int) -> ConsumerConfig:
        """One batch handed out at a time (max_ack_pending), acknowledged at once by its
        last message (AckPolicy.ALL): the batch was applied whole before it."""
        return ConsumerConfig(
            durable_name=INTAKE_CONSUMER,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if after else DeliverPolicy.ALL,
            opt_start_seq=after + 1 if after else None,
            ack_wait=self.ack_wait,
            max_ack_pending=self.batch,
            max_deliver=-1,
        )

    def alive(self) -> str | None:
        """None while the applier turns; else why not."""
        idle = time.monotonic() - self.turned
        return None if idle < STALE_AFTER else f"it has not turned for {idle:.0f}s"

    async def run(self) -> None:
        """Fetch, apply, acknowledge, until cancelled; a lost link is waited out."""
        sub: JetStreamContext.PullSubscription | None = None
        failures = 0
        while True:
            self.turned = time.monotonic()
            try:
                if sub is None:
                    self._delivered = await self.ensure()
                    sub = await self.js.pull_subscribe_bind(INTAKE_CONSUMER, stream=self.stream)
                msgs = await sub.fetch(self.batch, timeout=FETCH_WAIT)
            except nats.errors.TimeoutError:
                self.pending, self.behind = 0, 0.0  # nothing came for a second: caught up
                continue
            except (nats.errors.Error, OSError) as exc:
                # A hub reloading its config misses a beat: worth a warning if it lasts.
                failures += 1
                log.log(
                    logging.WARNING if failures * 0.2 >= QUIET_FOR else logging.DEBUG,
                    "the intake stream %s is not reachable (%s: %s); trying again",
                    self.stream,
                    type(exc).__name__,
                    exc,
                )
                await _unsubscribe(sub)
                sub = None
                await asyncio.sleep(min(failures * 0.2, 2.0))
                continue
            failures = 0
            try:
                await self.take([m for m in msgs if m.metadata is not None])
            except DeliveryGap as gap:
                log.warning("%s on %s: made again from where it stood", gap, self.stream)
                await _unsubscribe(sub)
                sub = None

    async def take(self, msgs: list[Msg]) -> None:
        """Apply one fetched batch, then acknowledge it. A batch that does not follow the
        last one without a gap (a message handed out and lost on the way: a link that
        broke, a hub restarted) is not applied: acknowledging it would settle the lost
        one too (AckPolicy.ALL); DeliveryGap makes the consumer again from its floor."""
        delivered = [m.metadata.sequence.consumer for m in msgs]
        if delivered != list(range(self._delivered + 1, self._delivered + 1 + len(msgs))):
            raise DeliveryGap(f"handed out after {self._delivered}: {delivered[:3]}...")
        if msgs:  # while it waits to be applied (a database down), the gauges say so
            self._waiting_since = msgs[0].metadata.timestamp.timestamp()
            self.pending = (msgs[-1].metadata.num_pending or 0) + len(msgs)
        stores = await self._stores()
        arrivals = [
            check(
                m.subject,
                m.data,
                (m.headers or {}).get(SOURCE_HEADER),
                m.metadata.timestamp.timestamp(),
                stores,
            )
            for m in msgs
        ]
        outcome = await self._until_applied(arrivals, msgs)
        if self.after_commit is not None:
            self.after_commit()
        if msgs:
            await msgs[-1].ack()  # AckPolicy.ALL: the whole batch, once
            self._delivered = delivered[-1]
            last = msgs[-1].metadata
            self.pending = last.num_pending or 0
            self.behind = max(0.0, time.time() - last.timestamp.timestamp())
            self._waiting_since = None
            self.applied += outcome.applied
        self._applied(outcome)

    async def _until_applied(self, arrivals: list[Arrival], msgs: list[Msg]) -> Outcome:
        delay = 0.2
        while True:
            try:
                return await self._apply(arrivals)
            except Exception as exc:  # a full disk, a locked file: the batch waits
                log.error(
                    "could not apply a batch of %d events (%s); retrying in %gs",
                    len(arrivals),
                    exc,
                    delay,
                )
            for m in msgs:  # still being worked on: the hub must not hand them out again
                with contextlib.suppress(nats.errors.Error):
                    await m.in_progress()
            await asyncio.sleep(delay)
            self.turned = time.monotonic()
            delay = min(delay * 2, RETRY_MAX)


async def _unsubscribe(sub: JetStreamContext.PullSubscription | None) -> None:
    if sub is not None:
        with contextlib.suppress(nats.errors.Error, OSError):
            await sub.unsubscribe()

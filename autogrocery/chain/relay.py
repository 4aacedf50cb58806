"""The store's relay to its head office, on the store's event loop (docs/chain.md).

Up: the outbox rows after the last one the leaf acknowledged are published to the
leaf's stream in order (`Nats-Msg-Id = <store>:<seq>`), a batch at a time, and each is
marked sent on its JetStream ack, taken in order; a row the leaf never acknowledged is
published again after a restart (the leaf drops the duplicate). The head office's high-water mark,
sent down, prunes the rows it confirmed. A heartbeat row every `chain.heartbeat`
seconds says the store is alive.

Down: a durable consumer on the leaf's `DOWN_<store>` stream takes the head office's
messages to the actors (ship, receive, a catalog version) and acknowledges each once
the actors committed it; the actors make each idempotent, so a redelivery changes
nothing.

Selling never waits for any of this: the actors only append to the outbox. Every
SQLite call runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsClientError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import PubAck, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from autogrocery.chain import desk
from autogrocery.chain.joinfile import JoinFile
from autogrocery.chain.natsd import NatsServer
from autogrocery.chain.protocol import (
    DOWN_CONSUMER,
    CatalogVersion,
    Hwm,
    Receive,
    Ship,
    down_stream,
    down_subjects,
    event_id,
    up_stream,
    up_subject,
    up_subjects,
)
from autogrocery.domain.errors import Unavailable
from autogrocery.domain.records import ChainStatus
from autogrocery.loop import cancel_all
from autogrocery.service.system import System
from autogrocery.store.chain_tables import ChainTables

log = logging.getLogger(__name__)

T = TypeVar("T")

BATCH = 256  # outbox rows read at a time
IDLE = 0.05  # seconds between looks at an outbox with nothing new
RETRY = (0.2, 0.5, 1.0, 2.0, 5.0)  # backing off while the leaf does not answer
PUBLISH_TIMEOUT = 5.0
LINK_EVERY = 2.0  # seconds between looks at the leaf's link to the hub
PRUNE_BATCH = 500
SAVE_EVERY = 1.0  # seconds between saves of the sent mark


class Relay:
    def __init__(
        self,
        system: System,
        join: JoinFile,
        leaf: NatsServer,
        heartbeat: float,
        retention_days: int,
    ) -> None:
        self.system = system
        self.join = join
        self.store_id = join.store_id
        self.leaf = leaf
        self.heartbeat_every = heartbeat
        self.max_age = retention_days * 86_400.0
        self.tables = ChainTables(system.store_connection())
        self.epoch = self.sent = self.hwm = 0
        self.hwm_at: float | None = None
        self.hub_connected = False
        self.published = 0
        self.last: ChainStatus | None = None  # the link watcher's last look
        self._save_due = 0.0
        self._nc: Client | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ready = asyncio.Event()

    # --- life ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the leaf (it is up: the caller started it), make sure the streams
        are there, and start the loops."""
        self.epoch, self.sent, self.hwm, self.hwm_at = await self._db(self.tables.link)
        client = self.leaf.ports.client if self.leaf.ports else "nats://127.0.0.1:4222"
        nc = self._nc = await nats.connect(
            client,
            name=f"autogrocery-relay-{self.store_id}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            allow_reconnect=True,
        )
        await self._streams(nc)
        # One context for the relay's life: each new one's first publish_async
        # subscribes to an inbox of its own, never removed (one per retry, otherwise).
        js = nc.jetstream()
        await desk.report_levels(self.system)  # every SKU once: the head office's start
        for name, loop in (
            ("up", lambda: self._up(js)),
            ("down", lambda: self._down(js)),
            ("heartbeat", self._heartbeat),
            ("link", self._watch_link),
        ):
            self._tasks.append(asyncio.create_task(self._forever(name, loop), name=f"relay-{name}"))
        log.info(
            "chain: store %s relays to its leaf (stream %s)",
            self.store_id,
            up_stream(self.store_id, self.epoch),
        )

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks.clear()
        with contextlib.suppress(Exception):  # a full disk: the rows go again next time
            await self._save_link()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.close(), 5.0)

    async def status(self) -> ChainStatus:
        self.last = await self._db(self._status)
        return self.last

    def _status(self) -> ChainStatus:
        newest, oldest = self.tables.newest(), self.tables.oldest_after(self.hwm)
        return ChainStatus(
            self.store_id,
            self.hub_connected,
            max(0, newest - self.hwm),
            round(time.time() - oldest, 3) if oldest is not None else 0.0,
            self.tables.catalog_version(),
        )

    def vitals(self) -> dict[str, float]:
        """For /metrics, without touching the store: as the link watcher last saw it."""
        last = self.last
        return {
            "chain_hub_connected": 1.0 if self.hub_connected else 0.0,
            "chain_outbox_pending": float(last.outbox_pending) if last else 0.0,
            "chain_oldest_pending_seconds": last.oldest_pending_age_s if last else 0.0,
            "chain_events_published": float(self.published),
            "chain_leaf_cpu_seconds": self.leaf.cpu_seconds(),
            "chain_leaf_restarts": float(self.leaf.restarts),
        }

    # --- the streams ----------------------------------------------------------------------

    async def _streams(self, nc: Client) -> None:
        """`UP_<store>_<epoch>` and `DOWN_<store>` on the leaf. An up stream that is gone
        (the leaf lost its data) is made again under the next epoch, and what the head
        office has not confirmed is published again into it."""
        js = nc.jetstream()
        name = up_stream(self.store_id, self.epoch)
        exists = self.epoch > 0 and await _exists(js, name)
        if not exists:
            if self.epoch > 0:
                log.warning(
                    "chain: the leaf lost stream %s; publishing from event %d again under epoch %d",
                    name,
                    min(self.hwm, self.sent) + 1,
                    self.epoch + 1,
                )
            self.epoch += 1
            # Everything after both marks is still in the outbox (pruning stops at
            # both): the head office's mark alone may stand past a row it never got.
            self.sent = min(self.hwm, self.sent)
            await self._save_link()
        await js.add_stream(
            StreamConfig(
                name=up_stream(self.store_id, self.epoch),
                subjects=[up_subjects(self.store_id)],
                retention=RetentionPolicy.LIMITS,  # an outage must not lose anything
                max_age=self.max_age,
                storage=StorageType.FILE,
                duplicate_window=120.0,
            )
        )
        await js.add_stream(
            StreamConfig(
                name=down_stream(self.store_id),
                subjects=[down_subjects(self.store_id)],
                retention=RetentionPolicy.LIMITS,
                max_msgs_per_subject=1,
                max_age=self.max_age,
                storage=StorageType.FILE,
            )
        )
        self._ready.set()

    # --- up ------------------------------------------------------------------------------

    async def _up(self, js: JetStreamContext) -> None:
        saved = self.sent
        while True:
            if self.sent != saved and time.monotonic() >= self._save_due:
                saved = self.sent
                await self._save_link()
            rows = await self._db(lambda: self.tables.after(self.sent, BATCH))
            if not rows:
                await asyncio.sleep(IDLE)
                continue
            await self._publish(js, rows)

    async def _publish(
        self, js: JetStreamContext, rows: list[tuple[int, str, float, bytes]]
    ) -> None:
        """Publish a batch without waiting for each ack before the next (one connection
        keeps them in order), then take the acks in order: `sent` moves over each one
        acknowledged. On the first failure the rest are dropped and the loop starts
        again from `sent`; whatever the leaf already stored past it is a duplicate it
        drops by `Nats-Msg-Id`. One round trip per batch instead of one per row."""
        acks: list[tuple[int, asyncio.Future[PubAck]]] = []
        try:
            for seq, kind, at, facts in rows:
                body = b'{"store_id":"%s","seq":%d,"kind":"%s","at":%r,"facts":%s,"v":1}' % (
                    self.store_id.encode(),
                    seq,
                    kind.encode(),
                    at,
                    facts,
                )
                ack = await js.publish_async(
                    up_subject(self.store_id, kind),
                    body,
                    wait_stall=PUBLISH_TIMEOUT,
                    headers={"Nats-Msg-Id": event_id(self.store_id, seq)},
                )
                acks.append((seq, ack))
            for seq, ack in acks:
                await asyncio.wait_for(asyncio.shield(ack), PUBLISH_TIMEOUT)
                self.sent = seq
                self.published += 1
        finally:
            for _, ack in acks:
                ack.cancel()

    async def _heartbeat(self) -> None:
        while True:  # the first at once: the head office's stores list shows the units
            await self._db(self.tables.heartbeat)
            await asyncio.sleep(self.heartbeat_every)

    # --- down ----------------------------------------------------------------------------

    async def _down(self, js: JetStreamContext) -> None:
        await self._ready.wait()
        sub = await js.pull_subscribe(
            down_subjects(self.store_id), durable=DOWN_CONSUMER, stream=down_stream(self.store_id)
        )
        try:
            while True:
                try:
                    messages = await sub.fetch(16, timeout=1.0)
                except NatsTimeout:
                    continue
                for message in messages:
                    await self._take(message)
        finally:  # the next try subscribes again
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _take(self, message: Msg) -> None:
        kind = message.subject.split(".")[3]
        try:
            if kind == "hwm":
                await self._confirmed(msgspec.json.decode(message.data, type=Hwm))
            elif kind == "ship":
                order = await desk.ship(self.system, msgspec.json.decode(message.data, type=Ship))
                log.info("chain: transfer %s to ship: %s", order.request_key, order.status)
            elif kind == "receive":
                receive = msgspec.json.decode(message.data, type=Receive)
                await desk.receive(self.system, receive)
                log.info("chain: transfer %s to receive", receive.transfer_id)
            elif kind == "catalog":
                version = msgspec.json.decode(message.data, type=CatalogVersion)
                await desk.apply_catalog(self.system, version)
            else:
                log.warning("chain: %s from the head office is not understood; dropped", kind)
        except msgspec.ValidationError as exc:
            log.error("chain: a %s from the head office is malformed (%s); dropped", kind, exc)
        except Unavailable as exc:  # the store cannot write now: ask again later
            log.warning("chain: %s not taken yet (%s)", kind, exc)
            await message.nak(delay=2.0)
            return
        await message.ack()

    async def _confirmed(self, hwm: Hwm) -> None:
        """The head office applied everything up to `hwm.hwm`: prune it."""
        if hwm.hwm <= self.hwm:
            return
        # Pruned up to both marks, never past a row the leaf did not acknowledge: with a
        # batch in flight the head office's mark (its highest event) can stand past one
        # the leaf lost while it took the next ones; that row goes again from `sent`.
        upto = min(hwm.hwm, self.sent)
        epoch, sent = self.epoch, self.sent
        await self._db(lambda: self.tables.save_link(epoch, sent, hwm.hwm, hwm.at))
        pruned = PRUNE_BATCH
        while pruned == PRUNE_BATCH:  # in small batches: the actors' writes come between
            pruned = await self._db(lambda: self.tables.prune(upto, PRUNE_BATCH))
        self.hwm, self.hwm_at = hwm.hwm, hwm.at  # only once saved and pruned: else again

    # --- the link ------------------------------------------------------------------------

    async def _watch_link(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            leafz = await loop.run_in_executor(None, self.leaf.monitor, "/leafz")
            connected = bool(leafz and leafz.get("leafnodes"))
            if connected != self.hub_connected:
                log.info("chain: the link to the head office is %s", "up" if connected else "down")
            self.hub_connected = connected
            await self.status()
            await asyncio.sleep(LINK_EVERY)

    # --- helpers -------------------------------------------------------------------------

    async def _forever(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run `loop`, again after a failure (the leaf restarting, a full disk), backing
        off; only cancellation ends it."""
        failures = 0
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except (NatsClientError, OSError, Unavailable) as exc:
                delay = RETRY[min(failures, len(RETRY) - 1)]
                failures += 1
                level = logging.INFO if failures == 1 else logging.DEBUG
                log.log(level, "chain: %s waits %gs: %s", name, delay, exc or type(exc).__name__)
                await asyncio.sleep(delay)
            except Exception:
                delay = RETRY[-1]
                log.exception("chain: %s failed; again in %gs", name, delay)
                await asyncio.sleep(delay)
            else:
                failures = 0

    async def _save_link(self) -> None:
        """The link's state to the store. The mark of what was sent is saved at most each
        SAVE_EVERY seconds (each save is a write transaction beside the actors'): after
        a crash the rows since are published again, and the leaf or the head office
        drops what it already has."""
        self._save_due = time.monotonic() + SAVE_EVERY
        epoch, sent, hwm, hwm_at = self.epoch, self.sent, self.hwm, self.hwm_at
        await self._db(lambda: self.tables.save_link(epoch, sent, hwm, hwm_at))

    async def _db(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, call)


async def _exists(js: JetStreamContext, stream: str) -> bool:
    try:
        await js.stream_info(stream)
    except NotFoundError:
        return False
    return True

"""The sender: what the head office owes each store, from durable state, until the
store's leaf acknowledges it.

Per store, in order: its high-water mark when it grew (`hwm`), transfers it must ship
(`ship.<transfer>`), transfers on their way to it (`receive.<transfer>`), then catalog
versions one at a time, the next only once the previous is acknowledged. Each goes into
the store's `DOWN_<store>` stream on its leaf (through the hub's import of
`chain.down.<store>.>`), with `Nats-Msg-Id = hq:<store>:<kind>:<key>`; only the leaf's
PubAck (from that stream, in that store's domain) settles it in the read model. A store
that is not connected answers nothing: it is tried again, backing off, and gets
everything once it is back. One look reads what is due to every store in a few
statements (`outgoing.py`), so its cost does not grow with the stores that have nothing
due; high-water marks go out at the next look (within `IDLE`), while a new transfer or
catalog version wakes the sender at once. Sending twice is harmless: the leaf's
duplicate window and the store (which keys transfers by id and versions by number) take
each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import nats.errors
from nats.js import JetStreamContext

from autogrocery.central.readmodel import Down
from autogrocery.chain.protocol import down_id, down_stream, down_subject, store_domain
from autogrocery.loop import cancel_all

log = logging.getLogger(__name__)

SEND_TIMEOUT = 2.0
IDLE = 1.0  # seconds between two looks when nothing wakes the sender
BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
PARALLEL = 32  # stores sent to at once (each store's messages go one after another)


class Sender:
    def __init__(
        self,
        js: JetStreamContext,
        due: Callable[[], Awaitable[list[Down]]],
        delivered: Callable[[Down], Awaitable[None]],
    ) -> None:
        self.js = js
        self._due = due
        self._delivered = delivered
        self.wake = asyncio.Event()
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        self._sending: dict[str, asyncio.Task[bool]] = {}  # a store's sends in flight
        self._limit = asyncio.Semaphore(PARALLEL)

    async def run(self) -> None:
        try:
            while True:
                await self.sweep()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), IDLE)
                self.wake.clear()
        finally:
            await cancel_all(list(self._sending.values()))

    async def sweep(self) -> None:
        """Start sending what is due to every store that is not backing off and has no
        sends in flight. A look does not wait for them: a store that takes its messages
        slowly holds back only itself. A store that settled a transfer or a catalog
        version wakes the sender (what follows it may be due now)."""
        now = time.monotonic()
        by_store: dict[str, list[Down]] = {}
        for down in await self._due():
            store = down.store_id
            if store not in self._sending and self._not_before.get(store, 0.0) <= now:
                by_store.setdefault(store, []).append(down)
        for store, downs in by_store.items():
            task = asyncio.create_task(self._flush(store, downs), name=f"send-{store}")
            self._sending[store] = task
            task.add_done_callback(functools.partial(self._sent, store))

    def _sent(self, store: str, task: asyncio.Task[bool]) -> None:
        self._sending.pop(store, None)
        if task.cancelled():
            return
        if task.exception() is not None:  # recording it failed: it is sent again later
            log.warning("sending to store %s failed: %s", store, task.exception())
            self._back_off(store)
        elif task.result():
            self.wake.set()

    async def _flush(self, store: str, downs: Sequence[Down]) -> bool:
        """`downs` to `store` in order, stopping at the first it does not take. True when
        one of them was more than a high-water mark."""
        more = False
        async with self._limit:
            for down in downs:
                if not await self._send(down):
                    self._back_off(store)
                    return more
                more = more or down.kind != "hwm"
        self._failures.pop(store, None)
        self._not_before.pop(store, None)
        return more

    async def _send(self, down: Down) -> bool:
        key = None if down.kind == "hwm" else down.key
        subject = down_subject(down.store_id, down.kind, key)
        msg_id = down_id(down.store_id, down.kind, down.key if down.key is not None else "")
        try:
            ack = await self.js.publish(
                subject, down.body, timeout=SEND_TIMEOUT, headers={"Nats-Msg-Id": msg_id}
            )
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            log.debug("store %s did not take %s (%s)", down.store_id, subject, exc)
            return False
        expected = (down_stream(down.store_id), store_domain(down.store_id))
        if (ack.stream, ack.domain) != expected:
            log.error(
                "%s was acknowledged by stream %s in domain %s, not %s in %s; not settled",
                subject,
                ack.stream,
                ack.domain,
                *expected,
            )
            return False
        await self._delivered(down)
        log.debug("sent %s to store %s", subject, down.store_id)
        return True

    def _back_off(self, store: str) -> None:
        failures = self._failures.get(store, 0)
        self._failures[store] = failures + 1
        delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
        self._not_before[store] = time.monotonic() + delay

    def forgive(self, store: str) -> None:
        """Try `store` at once next time (its leaf just came back)."""
        self._not_before.pop(store, None)
        self._failures.pop(store, None)

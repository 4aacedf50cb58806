"""The notifier: alerts told to other systems by webhooks, at least once, in order.

Stock appends a notice in the transaction that raises or clears an alert
(store/notify_schema.py). Here, on each alert event (and each second, should an event
be missed), the notices after each webhook's `after_seq` become its deliveries, in one
transaction that moves `after_seq` on. Each webhook has a task of its own that sends
its oldest pending delivery, and the next once that one is delivered or given up on: a
receiver that is slow or down holds only its own deliveries. A failed attempt is tried
again after a growing wait (webhook_sending.backoff), for `notify.webhook_retry_for`
seconds from the first attempt, then marked failed. All of it is in the store's
database: a store killed at any moment sends, after its restart, what it had not been
told was delivered (a delivery may then come twice: a receiver knows it by its id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from autogrocery.api.accounts import AuthTables
from autogrocery.api.auth_store import Sql
from autogrocery.api.url_guard import GuardedResolver
from autogrocery.api.webhook_sending import Attempt, attempt, backoff, pause
from autogrocery.api.webhook_tables import (
    BEHIND,
    SELECT_DUE,
    SELECT_TARGETS,
    Due,
    Target,
    due,
    fan_out,
    forget_old,
    give_up,
    record_attempt,
    target,
)
from autogrocery.config import NotifyConfig
from autogrocery.domain.models import now
from autogrocery.loop import cancel_all

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0  # s between looks for notices when no alert event says there are some
IDLE = 30.0  # s a sender with nothing due waits (a fan-out that queues for it wakes it)
FORGET_EVERY = 3600.0  # s between deletions of what is over a week old
DUE_PAGE = 50


class Alerts(Protocol):
    """The alert events' subscription (System.subscribe)."""

    async def receive(self) -> Any: ...
    def close(self) -> None: ...


Count = Callable[[str], None]  # counts an attempt's outcome: delivered, retried, failed


class Notifier:
    def __init__(
        self,
        tables: AuthTables,
        config: NotifyConfig,
        count: Count,
        alerts: Callable[[], Alerts],
    ) -> None:
        self._tables = tables
        self._config = config
        self._count = count
        self._alerts = alerts  # subscribes to the alert events
        self._waker: asyncio.Task[None] | None = None
        self._forgotten_at = 0.0
        self._wake = asyncio.Event()  # notices, or webhooks, changed
        self._reload = True  # the webhooks must be read again
        self._senders: dict[str, tuple[Target, asyncio.Task[None], asyncio.Event]] = {}

    @property
    def allow_private_urls(self) -> bool:
        return self._config.allow_private_urls

    @property
    def mail_configured(self) -> bool:
        return bool(self._config.smtp_host)

    def poke(self, webhook_id: str) -> None:
        """The webhook has a new delivery outside the fan-out (a ping, a redelivery)."""
        sender = self._senders.get(webhook_id)
        if sender is not None:
            sender[2].set()

    def changed(self) -> None:
        """A webhook was made, changed or deleted: its sender starts again from it."""
        self._reload = True
        self._wake.set()

    async def run(self) -> None:
        """Fan out, keep a sender per webhook, and forget what is old; until cancelled."""
        # No cap on connections in all (one hanging receiver must not use up another's),
        # a few at once to one host.
        resolver = GuardedResolver(self._config.allow_private_urls)
        connector = aiohttp.TCPConnector(resolver=resolver, limit=0, limit_per_host=8)
        session = aiohttp.ClientSession(connector=connector)
        self._reload = True
        try:
            while True:
                try:
                    await self._look(session)
                except Exception:  # the store is busy or stopping: the senders go on
                    log.warning("webhooks: a look failed; trying again", exc_info=True)
                await pause(self._wake, LOOK_EVERY)
        finally:
            tasks = [task for _, task, _ in self._senders.values()]
            if self._waker is not None:
                tasks.append(self._waker)
                self._waker = None
            await cancel_all(tasks)
            self._senders.clear()
            await session.close()

    async def _look(self, session: aiohttp.ClientSession) -> None:
        if self._reload:
            self._reload = False
            await self._keep_senders(session)
        self._keep_waker()
        while self._senders and await self._behind():  # an alert storm: a step at a time
            for webhook_id in await self._tables.transact(lambda c: fan_out(c, now())):
                if webhook_id in self._senders:
                    self._senders[webhook_id][2].set()
        if now() - self._forgotten_at >= FORGET_EVERY:
            while await self._tables.transact(lambda c: forget_old(c, now())):
                pass  # a step at a time, each its own transaction
            self._forgotten_at = now()

    async def _behind(self) -> bool:
        """Whether a notice is newer than some webhook has looked at (a read: the write
        transaction of a fan-out only when there is something to fan out)."""
        rows = await self._tables.conn.execute_fetchall(BEHIND)
        return bool(next(iter(rows))[0])

    async def _keep_senders(self, session: aiohttp.ClientSession) -> None:
        rows = await self._tables.conn.execute_fetchall(SELECT_TARGETS)
        targets = {t.webhook_id: t for t in map(target, rows)}
        stale = [
            webhook_id
            for webhook_id, (old, _, _) in self._senders.items()
            if targets.get(webhook_id) != old
        ]
        await cancel_all([self._senders.pop(webhook_id)[1] for webhook_id in stale])
        for webhook_id, new in targets.items():
            if webhook_id not in self._senders:
                wake = asyncio.Event()
                sending = self._send(session, new, wake)
                task = asyncio.create_task(sending, name=f"webhook-{webhook_id}")
                self._senders[webhook_id] = (new, task, wake)

    def _keep_waker(self) -> None:
        """Alert events wake the fan-out while there are webhooks; without any, the event
        bus is spared a subscriber (it publishes nothing no one wants)."""
        waker = self._waker
        if waker is not None and (waker.done() or not self._senders):
            waker.cancel()
            self._waker = waker = None
        if self._senders and waker is None:
            self._waker = asyncio.create_task(self._wake_on_alerts(), name="webhook-wake")

    async def _wake_on_alerts(self) -> None:
        """Each alert event (published after the commit that appended its notice) wakes
        the fan-out; until cancelled."""
        alerts = self._alerts()
        try:
            while True:
                await alerts.receive()
                self._wake.set()
        finally:
            alerts.close()

    async def _send(
        self, session: aiohttp.ClientSession, hook: Target, wake: asyncio.Event
    ) -> None:
        """Send `hook`'s deliveries in order, each until delivered or given up on."""
        if hook.paused:
            return  # its deliveries wait; resuming it starts a sender again
        while True:
            try:
                waiting = await self._send_due(session, hook)
            except Exception:  # a read or a write failed: the store is busy or stopping
                log.warning("webhook %s: sending paused", hook.webhook_id, exc_info=True)
                waiting = LOOK_EVERY
            await pause(wake, waiting)

    async def _send_due(self, session: aiohttp.ClientSession, hook: Target) -> float:
        """Send what is due now, in order; the seconds until the next is due."""
        config = self._config
        rows = list(
            await self._tables.conn.execute_fetchall(SELECT_DUE, (hook.webhook_id, DUE_PAGE))
        )
        for pending in map(due, rows):
            wait = pending.next_at - now()
            if wait > 0:
                return wait
            tried = await attempt(
                session, hook, pending, config.webhook_timeout, config.allow_private_urls
            )
            retry_in = await self._settle(hook, pending, tried)
            if not tried.delivered:  # retried later, or given up on with others: read again
                return retry_in if retry_in is not None else 0.0
        return IDLE if len(rows) < DUE_PAGE else 0.0

    async def _settle(self, hook: Target, pending: Due, tried: Attempt) -> float | None:
        """Record an attempt; the seconds until the delivery's next one (None: done). A
        delivery is given up on `webhook_retry_for` after it was queued, and with it every
        other of the webhook's as old: a dead receiver does not hold the ones behind for
        a day each."""
        config = self._config
        at = now()
        retry_in: float | None = None
        if tried.delivered:
            status = outcome = "delivered"
        elif at - pending.created_at >= config.webhook_retry_for:
            status = outcome = "failed"
        else:
            status, outcome = "pending", "retried"
            retry_in = backoff(pending.attempts + 1, config.webhook_max_backoff)
        write = partial(
            record_attempt,
            delivery_id=pending.delivery_id,
            status=status,
            at=at,
            next_at=at + (retry_in or 0.0),
            code=tried.code,
            ms=tried.ms,
            error=tried.error,
        )

        def settle(conn: Sql) -> int:
            write(conn)
            if status != "failed":
                return 0
            return give_up(conn, hook.webhook_id, at, at - config.webhook_retry_for)

        # Shielded: an attempt made is recorded even if the sender is cancelled meanwhile.
        gave_up = await asyncio.shield(self._tables.transact(settle))
        self._count(outcome)
        for _ in range(gave_up):
            self._count("failed")
        if status == "failed":
            log.warning(
                "webhook %s: delivery %s failed for good after %d attempts (%s); %d more "
                "as old given up with it",
                hook.webhook_id,
                pending.delivery_id,
                pending.attempts + 1,
                tried.error,
                gave_up,
            )
        return retry_in


NOTIFIER = web.AppKey("notifier", Notifier)

"""Keeps the dashboard's model in step with the store: snapshot, then live events, and
on any failure a banner state and a reconnect with exponential backoff (and jitter).

The WebSocket is opened before the snapshot is read, so no event falls between the
two. Each frame is decoded into its event Struct (`contract/events.py`); one that does
not decode (not JSON, an unknown type or field) is logged and dropped. No textual here:
the app hands in callbacks and runs `run()` in a worker.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from autogrocery.client import ApiError, Disconnected, UnexpectedAnswer, decode_event, describe
from autogrocery.contract.events import Event
from autogrocery.tui.client import ApiClient
from autogrocery.tui.model import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Link:
    """The connection as the banner shows it."""

    connected: bool
    reason: str = ""
    attempt: int = 0
    retry_in: float = 0.0
    since: float = 0.0  # monotonic time of the last change of `connected`


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float = 0.25
    factor: float = 2.0
    most: float = 5.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        base = min(self.most, self.first * self.factor ** max(0, attempt - 1))
        return base * (1 + random.uniform(-self.jitter, self.jitter))  # noqa: S311


def moved(before: Link, link: Link) -> Link:
    """`link`, `since` the time the connection went up or down (now, if it just did)."""
    since = time.monotonic() if link.connected != before.connected else before.since
    return Link(link.connected, link.reason, link.attempt, link.retry_in, since)


class Reconnects:
    """A feed's link to its server as the banner shows it: up, or lost with the attempt
    and the wait before the next. The backoff starts again from its first step after
    the link was up; `what` names the loss in the log."""

    def __init__(
        self, on_link: Callable[[Link], object], backoff: Backoff | None, what: str
    ) -> None:
        self.on_link = on_link
        self.backoff = backoff or Backoff()
        self.what = what
        self.link = Link(False, "connecting", since=time.monotonic())
        self._attempt = 0

    def set(self, link: Link) -> None:
        self.link = moved(self.link, link)
        self.on_link(self.link)

    def up(self) -> None:
        if not self.link.connected:
            self.set(Link(True))

    async def lost(self, reason: str) -> None:
        """Say so, then wait out the backoff before the caller tries again."""
        if self.link.connected:
            self._attempt = 0
        self._attempt += 1
        delay = self.backoff.delay(self._attempt)
        log.info("%s (%s); retrying in %.1fs", self.what, reason, delay)
        self.set(Link(False, reason, self._attempt, delay))
        await asyncio.sleep(delay)


async def load_snapshot(client: ApiClient) -> Snapshot:
    inventory, orders, restocks, robots, alerts = await asyncio.gather(
        client.inventory(),
        client.orders(limit=200),
        client.restocks(limit=50),
        client.robots(),
        client.alerts(),
    )
    try:
        analytics = await client.analytics()
    except UnexpectedAnswer:
        raise  # not a restart: an answer of another shape, said in the banner
    except ApiError:  # 503 while analytics restarts: the charts wait for the next poll
        analytics = None
    return Snapshot(inventory, orders, restocks, robots, alerts, analytics)


class Feed:
    def __init__(
        self,
        client: ApiClient,
        on_snapshot: Callable[[Snapshot], None],
        on_event: Callable[[Event], None],
        on_link: Callable[[Link], object],
        backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.on_snapshot = on_snapshot
        self.on_event = on_event
        self.reconnects = Reconnects(on_link, backoff, "dashboard disconnected")
        self._drops: dict[str, int] = {}  # why -> how many events were dropped for it

    async def run(self) -> None:
        """Forever (until cancelled): connect, follow, and reconnect after a failure."""
        while True:
            try:
                await self._follow()
                reason = "the store closed the event stream"
            except (Disconnected, ApiError) as exc:
                reason = str(exc).splitlines()[0]
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reason = describe(exc)
            await self.reconnects.lost(reason)

    def _dropped(self, why: str) -> None:
        """Log a dropped event the first time for each reason, then every tenfold: a
        store sending what this dashboard cannot read sends it with every event."""
        count = self._drops[why] = self._drops.get(why, 0) + 1
        if count == 1 or math.log10(count).is_integer():
            log.warning("dropped an event: %s (%d so far)", why, count)

    async def _follow(self) -> None:
        async with self.client.events() as ws:
            snapshot = await load_snapshot(self.client)
            self.on_snapshot(snapshot)
            self.reconnects.up()
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    try:
                        event = decode_event(message.data)
                    except UnexpectedAnswer as exc:  # not JSON, or not an event we know
                        self._dropped(exc.detail)
                        continue
                    self.on_event(event)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    raise Disconnected(describe(ws.exception() or ConnectionError("ws error")))

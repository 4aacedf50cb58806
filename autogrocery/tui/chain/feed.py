"""Keeps the chain's model in step with the head office, which sends no live events:
every `interval` seconds (and at once when poked: the operator asked for something)
it asks for the stores, counts the transfers in flight, and fetches what the visible
panel shows. A failed poll is a lost head office: the banner says so, and the feed
tries again with exponential backoff (and jitter), as the store's feed reconnects.

An error answer to a panel's own question (a SKU no store reported, a day that is not
one) is that panel's: it is shown there and the link stays up. An answer that is not
what the API documents (something else at that address: the client's `UnexpectedAnswer`,
an `ApiError`) is shown in the banner, never as a traceback. No textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from autogrocery.client import ApiError, Disconnected, UnexpectedAnswer
from autogrocery.tui.chain.client import ChainClient
from autogrocery.tui.chain.model import IN_FLIGHT, ChainModel, InFlight, week_to
from autogrocery.tui.feed import Backoff, Link, Reconnects

log = logging.getLogger(__name__)

POLL_INTERVAL = 2.0  # seconds between looks at the head office
COUNTED = 200  # transfers of each status in flight counted (more shows as "200+")


class ChainFeed:
    def __init__(
        self,
        client: ChainClient,
        model: ChainModel,
        on_link: Callable[[Link], object],
        wanted: Callable[[], str],
        *,
        interval: float = POLL_INTERVAL,
        backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.on_link = on_link
        self.wanted = wanted  # the panel shown now
        self.interval = interval
        self.reconnects = Reconnects(on_link, backoff, "head office lost")
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Poll now (while the head office answers; a reconnect keeps its backoff)."""
        self._poked.set()

    async def run(self) -> None:
        """Forever (until cancelled): poll, and back off while the head office is lost."""
        while True:
            self._poked.clear()
            try:
                await self.poll(self.wanted())
            except UnexpectedAnswer as exc:  # not JSON, or not its shape
                log.warning("unexpected answer from the head office: %s", exc)
                reason = f"an answer the dashboard does not understand ({exc.what}: {exc.detail})"
            except (Disconnected, ApiError) as exc:
                reason = str(exc).splitlines()[0]
            else:
                self.reconnects.up()
                await self._wait(self.interval)
                continue
            await self.reconnects.lost(reason)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._poked.wait(), seconds)

    async def poll(self, panel: str) -> None:
        """One look: the stores and transfers in flight (raises if the head office is
        lost), and what `panel` shows (its own errors are its own)."""
        model, client = self.model, self.client
        fetch = {"stock": self._stock, "transfers": self._transfers, "sales": self._sales}
        shown = fetch.get(panel)
        stores, counted, _ = await asyncio.gather(
            client.stores(),
            asyncio.gather(*(client.transfers(status, COUNTED) for status in IN_FLIGHT)),
            shown() if shown else asyncio.sleep(0),
        )
        model.set_stores(stores)
        model.set_in_flight(
            InFlight(
                sum(len(page.transfers) for page in counted),
                any(page.next_cursor for page in counted),
            )
        )

    async def _stock(self) -> None:
        model = self.model
        sku = model.stock_sku
        if sku is None:
            cursor = model.stock_cursor
            try:
                model.set_stock_page(cursor, await self.client.stock_page(cursor))
            except UnexpectedAnswer:  # not the panel's: the banner's
                raise
            except ApiError as exc:
                model.failed("stock", str(exc))
            return
        try:
            model.set_stock(sku, await self.client.stock(sku))
        except UnexpectedAnswer:
            raise
        except ApiError as exc:
            model.set_stock(sku, None, exc.detail if exc.status == 404 else str(exc))

    async def _transfers(self) -> None:
        status = self.model.transfer_status
        try:
            self.model.set_transfers(status, await self.client.transfers(status))
        except UnexpectedAnswer:
            raise
        except ApiError as exc:
            self.model.failed("transfers", str(exc))

    async def _sales(self) -> None:
        asked = first, last = self.model.sales_range
        try:
            if last is None and first is None:  # the last days, to the chain's today
                last = (await self.client.sales()).to
            if first is None and last is not None:
                first = week_to(last)
            self.model.set_sales(asked, await self.client.sales(first, last))
        except UnexpectedAnswer:
            raise
        except (ApiError, ValueError) as exc:  # ValueError: a `to` that is not a day
            self.model.failed("sales", str(exc))

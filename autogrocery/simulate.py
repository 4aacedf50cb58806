"""Simulated customers and trucks that drive a store through its real HTTP API.

Fridges register (or log in again), read the catalog, and place orders at `rate`
orders per second: preview a basket of 1-4 SKUs that are in stock, then confirm it.
The store's robots pick each item (`robots.pick_time` seconds per item). Trucks watch
the operators' inventory and send a restock manifest for every SKU below its min level,
one restock per SKU at a time. `simulate_process.SimulatorProcess` runs it all in a child
process, so the store's loop (and the dashboard on it) pays only for the server side of
each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from autogrocery.client import Account, ApiError, Credentials, Disconnected, StoreClient
from autogrocery.simulate_accounts import fridge_accounts

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

FINAL = {"COMPLETED", "FAILED", "CANCELLED", "EXPIRED"}
SIMULATOR_CONNECTIONS = 64  # at once, at most (api.max_connections_per_client: 100)
SIMULATOR_TIMEOUT = 300.0  # seconds for a whole request
CATALOG_PAGE = 500  # products a fridge reads at once
LOW = 1.5  # trucks bring a SKU back to 4 x its min level once it is below 1.5 x


class Offered(TypedDict):
    """What a fridge reads of a catalog item (/api/catalog)."""

    sku: str
    available: int


class Line(TypedDict):
    """A line of an order preview."""

    sku: str
    quantity: int


@dataclass(slots=True)
class Stats:
    orders: int = 0  # confirmed
    previews: int = 0
    shortages: int = 0  # 409 at preview
    unavailable: int = 0  # 503
    errors: int = 0
    behind: int = 0  # orders not started because `max_in_flight` were out
    restocks: int = 0
    last_error: str = ""
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        elapsed = max(1e-9, time.monotonic() - self.started)
        return (
            f"{self.orders} orders ({self.orders / elapsed:.1f}/s), {self.restocks} restocks, "
            f"{self.shortages} short, {self.unavailable} unavailable, {self.errors} errors, "
            f"{self.behind} behind"
        )


@dataclass(frozen=True, slots=True)
class Simulation:
    """What a `Simulator` does, and as whom (picklable: a child process gets it whole)."""

    url: str
    operator: Credentials
    truck: Credentials
    fridge_password: str
    rate: float  # orders a second
    fridges: int = 8
    max_in_flight: int = 500
    restock_interval: float = 1.0
    seed: int | None = None
    # Days fresh goods keep: trucks deliver those SKUs as dated lots.
    shelf_lives: dict[str, int] = field(default_factory=dict)
    time_zone: str = "UTC"  # the store's: lots are dated by its calendar


class Simulator:
    def __init__(self, simulation: Simulation) -> None:
        # All its devices share one address: stay under api.max_connections_per_client.
        self.client = StoreClient(
            simulation.url, timeout=SIMULATOR_TIMEOUT, connections=SIMULATOR_CONNECTIONS
        )
        self.zone = ZoneInfo(simulation.time_zone)
        self.shelf_lives = simulation.shelf_lives
        self.operator_login, self.truck_login = simulation.operator, simulation.truck
        self.fridge_password = simulation.fridge_password
        self.rate = simulation.rate
        self.fridge_count = simulation.fridges
        self.max_in_flight = simulation.max_in_flight
        self.restock_interval = simulation.restock_interval
        self.rng = random.Random(simulation.seed)  # noqa: S311 (a simulation, not a secret)
        self.stats = Stats()
        self.catalog: list[Offered] = []  # the catalog page last read
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stocked = asyncio.Event()

    async def run(self) -> None:
        """Until cancelled."""
        async with self.client as client:
            operator, truck = Account(self.operator_login), Account(self.truck_login)
            fridges = await fridge_accounts(client, self.fridge_count, self.fridge_password)
            self.stats = Stats()
            try:
                await asyncio.gather(
                    self._shop(fridges), self._catalog(fridges[0]), self._trucks(operator, truck)
                )
            finally:
                for task in list(self._in_flight):
                    task.cancel()
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _catalog(self, fridge: Account) -> None:
        """A page of the catalog a second, walking it round: fridges shop from the page
        last read (the whole catalog of a small store; a screenful of a big one)."""
        cursor: str | None = None
        while True:
            with contextlib.suppress(ApiError, Disconnected):
                params = {"limit": str(CATALOG_PAGE)} | ({"cursor": cursor} if cursor else {})
                found = await self.client.call("GET", "/api/catalog", account=fridge, params=params)
                cursor = found.get("next_cursor")
                self.catalog = found["items"]
                self._stocked.set()
            await asyncio.sleep(1.0)

    async def _shop(self, fridges: list[Account]) -> None:
        await self._stocked.wait()
        loop = asyncio.get_running_loop()
        started, placed = loop.time(), 0
        while True:
            due = int((loop.time() - started) * self.rate) - placed
            if due > self.rate:  # more than a second behind: skip, do not burst
                self.stats.behind += due
                placed += due
                due = 0
            for _ in range(due):
                placed += 1
                if len(self._in_flight) >= self.max_in_flight:
                    self.stats.behind += 1
                    continue
                task = asyncio.create_task(self._order(self.rng.choice(fridges)))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            await asyncio.sleep(min(0.01, 1 / self.rate))

    def basket(self) -> list[Line]:
        stocked = [item for item in self.catalog if item.get("available", 0) > 2]
        if not stocked:
            return []
        lines = self.rng.sample(stocked, min(len(stocked), self.rng.randint(1, 4)))
        return [{"sku": item["sku"], "quantity": self.rng.randint(1, 2)} for item in lines]

    async def _order(self, fridge: Account) -> None:
        items = self.basket()
        if not items:
            self.stats.shortages += 1
            return
        try:
            await self._preview_and_confirm(fridge, items)
        except ApiError as refused:
            self._count(refused)
        except Disconnected as exc:
            self.stats.errors += 1
            self.stats.last_error = str(exc)

    async def _preview_and_confirm(self, fridge: Account, items: list[Line]) -> None:
        """One order, counted as the store answers; an error answer is raised."""
        call = self.client.call
        try:
            preview = await call("POST", "/api/orders/preview", {"items": items}, account=fridge)
        except ApiError:
            self.stats.previews += 1
            raise
        self.stats.previews += 1
        order_id = preview["order_id"]
        try:
            await call("POST", f"/api/orders/{order_id}/confirm", account=fridge)
        except ApiError as refused:
            if refused.status == 503:  # no robot for an aisle: give the stock back
                with contextlib.suppress(ApiError):
                    await call("POST", f"/api/orders/{order_id}/cancel", account=fridge)
            raise
        self.stats.orders += 1

    def _dates(self, sku: str, today: date) -> dict[str, str]:
        """A fresh SKU's delivery dates: made today, best before its shelf life from now
        (give or take a day, so lots of one SKU differ)."""
        days = self.shelf_lives.get(sku)
        if not days:
            return {}
        keeps = max(1, days + self.rng.randint(-1, 1))
        return {
            "mfd_date": today.isoformat(),
            "expiry_date": (today + timedelta(days=keeps)).isoformat(),
        }

    def _count(self, refused: ApiError) -> None:
        if refused.status == 409:
            self.stats.shortages += 1
        elif refused.status == 503:
            self.stats.unavailable += 1
        else:
            self.stats.errors += 1
            self.stats.last_error = str(refused)

    async def _trucks(self, operator: Account, truck: Account) -> None:
        pending: dict[str, str] = {}  # sku → restock id on its way
        try:
            await self._fresh_delivery(operator, truck)
        except (ApiError, Disconnected) as exc:
            self.stats.last_error = f"truck: {exc}"
        while True:
            try:
                await self._restock_low(operator, truck, pending)
            except (ApiError, Disconnected) as exc:
                self.stats.last_error = f"truck: {exc}"
            await asyncio.sleep(self.restock_interval)

    async def _fresh_delivery(self, operator: Account, truck: Account) -> None:
        """The day's first fresh food, when the store has no dated stock yet: each fresh
        SKU's min level, dated, so expiry alerts and first-expired-first-out picking show
        from the start instead of once the first SKU runs low."""
        if not self.shelf_lives:
            return
        call = self.client.call
        if (await call("GET", "/api/ops/expiring?within=3650d", account=operator))["lots"]:
            return
        inventory = await self.client.every("/api/ops/inventory", account=operator)
        today = datetime.now(self.zone).date()
        items = [
            {
                "sku": item["sku"],
                "quantity": max(1, item["min_level"]),
                "unit_cost": item["unit_cost"],
            }
            | self._dates(item["sku"], today)
            for item in inventory
            if item["sku"] in self.shelf_lives
        ]
        if not items:
            return
        try:
            await call("POST", "/api/restocks", {"items": items}, account=truck)
        except ApiError as refused:
            self._count(refused)
        else:
            self.stats.restocks += 1

    async def _restock_low(
        self, operator: Account, truck: Account, pending: dict[str, str]
    ) -> None:
        call = self.client.call
        for restock_id in set(pending.values()):
            try:
                restock = await call("GET", f"/api/restocks/{restock_id}", account=operator)
                arrived = restock["status"] in FINAL
            except ApiError:
                arrived = True  # the store knows it no more: stop waiting for it
            if arrived:
                for sku in [s for s, r in pending.items() if r == restock_id]:
                    del pending[sku]
        # Below 1.5 x min level is wider than the store's below_min filter: read it all,
        # a page at a time.
        inventory = await self.client.every("/api/ops/inventory", account=operator)
        low = [
            item
            for item in inventory
            if item["available"] < LOW * item["min_level"] and item["sku"] not in pending
        ]
        if not low:
            return
        today = datetime.now(self.zone).date()
        items = [
            {
                "sku": item["sku"],
                "quantity": max(1, min(1000, 4 * item["min_level"] - item["available"])),
                "unit_cost": item["unit_cost"],
            }
            | self._dates(item["sku"], today)
            for item in low
        ]
        try:
            receipt = await call("POST", "/api/restocks", {"items": items}, account=truck)
        except ApiError as refused:
            self._count(refused)
        else:
            self.stats.restocks += 1
            pending.update({item["sku"]: receipt["restock_id"] for item in items})

"""The `System` facade: async methods that the API, the CLI and the tests call.

Writes are one message to one actor through the non-blocking bridge; the actors answer
with records, and so does `System` (the API shows them: api/views.py). Reads of stored
orders and the ledger go through aiosqlite; stock levels come from the stock actor,
which holds them. Nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from autogrocery.actors.supervisor import CoreActor, Supervisor
from autogrocery.config import StockConfig
from autogrocery.domain.errors import IdempotencyMismatch, NotFound, ValidationError
from autogrocery.domain.messages.analytics import Metric, Summarize, Summary
from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.messages.lifecycle import Ping
from autogrocery.domain.messages.ordering import CancelOrder, ConfirmOrder
from autogrocery.domain.messages.stock import (
    AddProduct,
    AdjustStock,
    CreateRestock,
    OpenAlerts,
    PreviewOrder,
    StockLevels,
    StockPage,
    UpdateProduct,
)
from autogrocery.domain.models import LineRequest, OrderKind, OrderStatus
from autogrocery.domain.records import (
    Alert,
    ChainStatus,
    Confirmation,
    Made,
    MovementRecord,
    OrderRecord,
    ReplicationStatus,
    RequestKey,
    RobotSeen,
    StockLevel,
)
from autogrocery.domain.validation import check_lines
from autogrocery.runtime.base import BATCH_STATS
from autogrocery.runtime.bridge import AsyncBridge
from autogrocery.runtime.eventbus import EventBus, Subscription
from autogrocery.service.answers import LotCheck, Reconciliation, SkuCheck
from autogrocery.service.described import DescribedProducts
from autogrocery.service.markdowns import MarkdownDesk
from autogrocery.service.reconcile import reconciliation
from autogrocery.service.stock_reports import StockReports
from autogrocery.service.system_checks import (
    answer_again,
    check_limit,
    check_movement_type,
    check_status,
    lot_checks,
    sku_checks,
)
from autogrocery.store.history_keeper import HistoryKeeper
from autogrocery.store.reads import Reader
from autogrocery.store.shared import SharedConnection
from autogrocery.transports.base import LocalRobotHub

log = logging.getLogger(__name__)

A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class OrderLimits:
    max_quantity: int
    max_lines: int


class System:
    def __init__(
        self,
        supervisor: Supervisor,
        reader: Reader,
        events: EventBus,
        limits: OrderLimits,
        loop: asyncio.AbstractEventLoop,
        stock: StockConfig | None = None,
    ) -> None:
        self.stock = stock or StockConfig()
        self.supervisor = supervisor
        self.reader = reader
        self.events = events
        self.limits = limits
        self.loop = loop
        self.bridge = AsyncBridge(loop, supervisor.ctx.ask_timeout)
        self.reports = StockReports(self._ask, reader, supervisor.ctx, self.stock)
        self.described = DescribedProducts(self._ask)  # what searches read
        self.markdowns = MarkdownDesk(self._ask, reader, supervisor.ctx, self.stock, self.reports)
        self._stopped = False
        # In a chain (chain/link.py): its link's status now, its counters as last seen.
        self.chain_status: Callable[[], Awaitable[ChainStatus]] | None = None
        self.chain_vitals: Callable[[], dict[str, float]] | None = None
        # Litestream replicating the store's database, when [replicate] says where to.
        self.replication: Callable[[], ReplicationStatus] | None = None
        self.keeper: HistoryKeeper | None = None  # store/history_keeper.py, once started

    async def ask(self, actor: CoreActor, message: Answered[A]) -> A:
        """One message to a core actor (by name); its answer, of the type it declares."""
        return await self._ask(actor, message)

    async def _ask(self, actor: CoreActor, message: Answered[A]) -> A:
        return await self.bridge.send(self.supervisor.refs[actor], message)

    # --- customer orders -----------------------------------------------------------------

    async def preview(
        self, owner: str, lines: Sequence[LineRequest], request: RequestKey | None = None
    ) -> OrderRecord:
        """Reserve and price `lines`; with a `request` key, a repeat returns the same
        order."""
        checked = self._checked(lines, restock=False)
        return await self._ask("stock", PreviewOrder(owner, checked, request))

    async def made(self, owner: str, request_key: str) -> Made | None:
        """The order or restock `owner` made under this Idempotency-Key, if any."""
        return await self.reader.made(owner, request_key)

    async def first_answer(
        self,
        owner: str,
        made: Made,
        kind: OrderKind,
        lines: Callable[[], Sequence[LineRequest]],
    ) -> OrderRecord | None:
        """What the preview or restock that made `made` answered when it was made (the
        order may have moved on since), or None if it is not of `kind`. Made before
        requests' digests were kept (`made.digest` None), it is compared by `lines`:
        other lines are IdempotencyMismatch."""
        order = await self.reader.order(made.ref, kind, owner)
        if order is None:
            return None
        restock = kind == OrderKind.RESTOCK
        asked = None
        if made.digest is None:
            try:
                asked = self._checked(lines(), restock=restock)
            except ValidationError:
                raise IdempotencyMismatch() from None
        return answer_again(order, asked, restock)

    async def confirm(self, order_id: str, owner: str | None = None) -> Confirmation:
        """The order's id and status, and whether this call confirmed it."""
        return await self._ask("stock", ConfirmOrder(order_id, owner))

    async def cancel(
        self, order_id: str, owner: str | None = None, *, previews_only: bool = False
    ) -> OrderRecord:
        return await self._ask("stock", CancelOrder(order_id, owner, previews_only))

    async def get_order(self, order_id: str, owner: str | None = None) -> OrderRecord:
        order = await self.reader.order(order_id, OrderKind.CUSTOMER, owner)
        if order is None:
            raise NotFound(f"no order {order_id}")
        return order

    async def order_history(
        self, order_id: str, owner: str | None = None
    ) -> list[tuple[OrderStatus, float]]:
        """Each status the order went through and when, oldest first."""
        return (await self.get_order(order_id, owner)).history()

    async def list_orders(
        self,
        owner: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: int | None = None,
        kind: OrderKind = OrderKind.CUSTOMER,
    ) -> tuple[list[OrderRecord], int | None]:
        check_status(status)
        check_limit(limit, 500)
        return await self.reader.orders(kind, owner, status, limit, cursor)

    async def transfers(
        self, limit: int = 50, cursor: int | None = None
    ) -> tuple[list[OrderRecord], int | None]:
        """The chain's transfers this store ships or receives, newest first."""
        check_limit(limit, 500)
        kinds = (OrderKind.TRANSFER_OUT, OrderKind.TRANSFER_IN)
        return await self.reader.orders(kinds, None, None, limit, cursor)

    async def transfer(self, transfer_id: str) -> OrderRecord:
        order = await self.reader.transfer(transfer_id)
        if order is None:
            raise NotFound(f"no transfer {transfer_id} at this store")
        return order

    # --- restocks ------------------------------------------------------------------------

    async def restock(
        self, owner: str, lines: Sequence[LineRequest], request: RequestKey | None = None
    ) -> OrderRecord:
        """A truck's delivery: robots shelve it; each dated line becomes a lot."""
        checked = self._checked(lines, restock=True)
        return await self._ask("stock", CreateRestock(owner, checked, request))

    def _checked(self, lines: Sequence[LineRequest], *, restock: bool) -> tuple[LineRequest, ...]:
        limits = self.limits
        return check_lines(
            lines, max_quantity=limits.max_quantity, max_lines=limits.max_lines, restock=restock
        )

    async def get_restock(self, restock_id: str, owner: str | None = None) -> OrderRecord:
        restock = await self.reader.order(restock_id, OrderKind.RESTOCK, owner)
        if restock is None:
            raise NotFound(f"no restock {restock_id}")
        return restock

    # --- operators -----------------------------------------------------------------------

    async def levels(self) -> list[StockLevel]:
        return await self._ask("stock", StockLevels())

    async def level_page(self, page: StockPage) -> list[StockLevel]:
        """A page of products' levels in shelf order (see `StockPage`)."""
        return await self._ask("stock", page)

    async def movements(
        self,
        sku: str | None = None,
        movement_type: str | None = None,
        limit: int = 100,
        cursor: int | None = None,
    ) -> tuple[list[MovementRecord], int | None]:
        check_movement_type(movement_type)
        check_limit(limit, 1000)
        return await self.reader.movements(sku, movement_type, limit, cursor)

    async def adjust_stock(
        self,
        sku: str,
        delta: int,
        reason: str,
        note: str | None = None,
        user: str = "operator",
        lot_id: str | None = None,
    ) -> StockLevel:
        if not isinstance(delta, int) or isinstance(delta, bool):
            raise ValidationError(
                "delta must be an integer", [{"field": "delta", "message": "not an integer"}]
            )
        return await self._ask("stock", AdjustStock(sku, delta, reason, note, user, lot_id))

    async def add_product(
        self,
        sku: str,
        name: str,
        aisle: str,
        unit: str,
        price: int,
        unit_cost: int,
        min_level: int,
        on_hand: int = 0,
        user: str = "operator",
    ) -> StockLevel:
        """A new SKU, stocked and priced in one step, in an aisle robots serve."""
        return await self._ask(
            "stock", AddProduct(sku, name, aisle, unit, min_level, on_hand, price, unit_cost, user)
        )

    async def update_product(
        self,
        sku: str,
        name: str | None = None,
        min_level: int | None = None,
        price: int | None = None,
    ) -> StockLevel:
        return await self._ask("stock", UpdateProduct(sku, name, min_level, price))

    async def product(self, sku: str) -> StockLevel:
        for level in await self.described.levels_of((sku,)):
            return level
        raise NotFound(f"no product {sku}")

    def today(self) -> date:
        """The store's date now, in its time zone."""
        return self.supervisor.ctx.today()

    def clock(self) -> float:  # what `today` reads: time.time, or what a test sets
        return self.supervisor.ctx.clock()

    async def alerts(self) -> list[Alert]:
        return await self._ask("stock", OpenAlerts())

    async def lot_ledger(self) -> list[LotCheck]:
        """Each lot's on_hand against the sum of its movements."""
        return lot_checks(await self.reader.lot_ledger())

    async def reconcile(self) -> list[SkuCheck]:
        """Each SKU's on_hand against its ledger (one snapshot of the store), and what is
        reserved against what is on hand (the stock actor's levels)."""
        ledger = await self.reader.ledger()
        return sku_checks(ledger, await self.levels())

    async def reconciliation(self, limit: int | None = None, after: str = "") -> Reconciliation:
        """The books check as operators read it (`service/reconcile.py`)."""
        return await reconciliation(self._ask, self.reader, limit, after)

    @property
    def robot_hub(self) -> LocalRobotHub:
        """The robots' hub, in process or over ZeroMQ: its robots and its channel's counters."""
        return self.supervisor.hub

    async def robots(self) -> list[RobotSeen]:
        return self.supervisor.hub.robots()

    async def analytics(self) -> Summary:
        result = await self._ask("analytics", Summarize())
        return result

    def subscribe(
        self, types: Iterable[str] | None = None, owner: str | None = None
    ) -> Subscription:
        return self.events.subscribe(self.loop, types, owner)

    def health(self) -> dict[str, bool]:
        return self.supervisor.health()

    def problems(self) -> dict[str, str]:
        """Why the store cannot serve now, by component: writes failing (a full disk),
        or a core that died too often to be restarted."""
        return self.supervisor.problems()

    def vitals(self) -> dict[str, float]:
        """Counters for /metrics: core restarts, whether the core was given up on, store
        writes that failed, and events lost by subscribers that fell behind."""
        supervisor = self.supervisor
        shared = supervisor.ctx.connect()
        vitals = {
            "core_restarts": float(supervisor.restarts),
            "core_given_up": 1.0 if supervisor.gave_up is not None else 0.0,
            "store_write_failures": float(shared.write_failures),
            "events_dropped": float(self.events.dropped),
        }
        if self.chain_vitals is not None:
            vitals.update(self.chain_vitals())
        if self.replication is not None:
            replication = self.replication()
            vitals["replication_up"] = 1.0 if replication.running else 0.0
            vitals["replication_lag_seconds"] = replication.lag_s
            vitals["replication_restarts"] = float(replication.restarts)
        return vitals

    def store_connection(self) -> SharedConnection:
        """The process's shared store connection (store/shared.py), the store's one
        writer, for writers beside the actors (the chain's relay, the API's accounts)."""
        return self.supervisor.ctx.connect()

    def hand_checkpoints_to(self, in_charge: Callable[[], bool]) -> None:
        """While `in_charge()`, the store leaves checkpoints to another (Litestream)."""
        self.supervisor.ctx.connect().hand_checkpoints_to(in_charge)

    def alive(self) -> str | None:
        """None while the process can still serve; else why it should be restarted (the
        core given up on, or the database file lost)."""
        problems = self.supervisor.problems()
        return problems.get("core") or problems.get("store")

    def watch_metrics(self, on_metrics: Callable[[list[Metric]], None]) -> None:
        """`on_metrics` gets every finished order's metric, batch by batch, on the thread
        that publishes them (keep it short and thread-safe)."""
        self.supervisor.metrics.subscribe(on_metrics)

    def batch_stats(self) -> dict[str, tuple[int, int]]:
        """(batches, messages) each kind of actor has handled in this process."""
        return {name: (s.batches, s.items) for name, s in BATCH_STATS.items()}

    async def ping_all(self) -> None:
        """Every core actor answers a ping (raises Unavailable if one does not)."""
        await asyncio.gather(
            *(self.bridge.send(ref, Ping()) for ref in self.supervisor.refs.values())
        )

    async def order_counts(self) -> list[tuple[str, str, int]]:
        return await self.reader.order_counts()

    # --- lifecycle -----------------------------------------------------------------------

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.events.close_all()
        self.bridge.close()
        if self.keeper is not None:
            await self.loop.run_in_executor(None, self.keeper.stop)
        await self.reader.close()
        await self.loop.run_in_executor(None, self.supervisor.stop)

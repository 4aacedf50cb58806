"""The `System` facade: async methods that the API, the CLI and the tests call.

Writes are one message to one actor through the non-blocking bridge; reads go
through aiosqlite. Nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from autogrocery.actors.base import AsyncBridge
from autogrocery.actors.eventbus import EventBus, Subscription
from autogrocery.actors.supervisor import Supervisor
from autogrocery.domain.errors import NotFound, ValidationError
from autogrocery.domain.messages import (
    AddProduct,
    AdjustStock,
    CancelOrder,
    ConfirmOrder,
    CreateRestock,
    Ping,
    PreviewOrder,
    SetPrice,
    Summarize,
    UpdateProduct,
)
from autogrocery.domain.models import MovementType, OrderKind, OrderStatus
from autogrocery.domain.validation import parse_lines
from autogrocery.store.reads import Reader

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    max_quantity: int
    max_lines: int


class System:
    def __init__(
        self,
        supervisor: Supervisor,
        reader: Reader,
        events: EventBus,
        limits: Limits,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.supervisor = supervisor
        self.reader = reader
        self.events = events
        self.limits = limits
        self.loop = loop
        self.bridge = AsyncBridge(loop, supervisor.ctx.ask_timeout)
        self._stopped = False

    def _ref(self, name: str) -> Any:
        return self.supervisor.refs[name]

    # --- customer orders -----------------------------------------------------------------

    async def preview(
        self, owner: str, items: Any, request_key: str | None = None
    ) -> dict[str, Any]:
        """Reserve and price `items`; with `request_key`, a repeat returns the same order."""
        lines = parse_lines(
            items, max_quantity=self.limits.max_quantity, max_lines=self.limits.max_lines
        )
        result: dict[str, Any] = await self.bridge.ask(
            self._ref("ordering"), PreviewOrder(owner, lines, request_key)
        )
        return result

    async def confirm(self, order_id: str, owner: str | None = None) -> tuple[dict[str, Any], bool]:
        """Returns the order's id and status, and whether this call confirmed it."""
        result: tuple[dict[str, Any], bool] = await self.bridge.ask(
            self._ref("ordering"), ConfirmOrder(order_id, owner)
        )
        return result

    async def cancel(self, order_id: str, owner: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.bridge.ask(
            self._ref("ordering"), CancelOrder(order_id, owner)
        )
        return result

    async def get_order(self, order_id: str, owner: str | None = None) -> dict[str, Any]:
        order = await self.reader.order(order_id, OrderKind.CUSTOMER, owner)
        if order is None:
            raise NotFound(f"no order {order_id}")
        return order

    async def order_history(self, order_id: str, owner: str | None = None) -> list[dict[str, Any]]:
        await self.get_order(order_id, owner)
        return await self.reader.history(order_id)

    async def list_orders(
        self,
        owner: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: int | None = None,
        kind: OrderKind = OrderKind.CUSTOMER,
    ) -> tuple[list[dict[str, Any]], int | None]:
        if status is not None and status not in OrderStatus.__members__:
            raise ValidationError(
                f"unknown status {status!r}", [{"field": "status", "message": "unknown status"}]
            )
        if not 1 <= limit <= 500:
            raise ValidationError(
                "limit must be between 1 and 500", [{"field": "limit", "message": "out of range"}]
            )
        return await self.reader.orders(kind, owner, status, limit, cursor)

    # --- restocks ------------------------------------------------------------------------

    async def restock(
        self, owner: str, items: Any, request_key: str | None = None
    ) -> dict[str, Any]:
        lines = parse_lines(
            items,
            max_quantity=self.limits.max_quantity,
            max_lines=self.limits.max_lines,
            with_cost=True,
        )
        result: dict[str, Any] = await self.bridge.ask(
            self._ref("ordering"), CreateRestock(owner, lines, request_key)
        )
        return result

    async def get_restock(self, restock_id: str, owner: str | None = None) -> dict[str, Any]:
        restock = await self.reader.order(restock_id, OrderKind.RESTOCK, owner)
        if restock is None:
            raise NotFound(f"no restock {restock_id}")
        return restock

    # --- operators -----------------------------------------------------------------------

    async def inventory(self) -> list[dict[str, Any]]:
        return await self.reader.inventory()

    async def catalog(self) -> list[dict[str, Any]]:
        return await self.reader.catalog()

    async def movements(
        self,
        sku: str | None = None,
        movement_type: str | None = None,
        limit: int = 100,
        cursor: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        if movement_type is not None and movement_type not in MovementType.__members__:
            raise ValidationError(
                f"unknown movement type {movement_type!r}",
                [{"field": "type", "message": "not IN, OUT, WASTE, ADJUST or COUNT"}],
            )
        if not 1 <= limit <= 1000:
            raise ValidationError(
                "limit must be between 1 and 1000", [{"field": "limit", "message": "out of range"}]
            )
        return await self.reader.movements(sku, movement_type, limit, cursor)

    async def adjust_stock(
        self, sku: str, delta: int, reason: str, note: str | None = None, user: str = "operator"
    ) -> dict[str, Any]:
        if not isinstance(delta, int) or isinstance(delta, bool):
            raise ValidationError(
                "delta must be an integer", [{"field": "delta", "message": "not an integer"}]
            )
        result: dict[str, Any] = await self.bridge.ask(
            self._ref("inventory"), AdjustStock(sku, delta, reason, note, user)
        )
        return result

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
    ) -> dict[str, Any]:
        """A new SKU in an aisle robots serve. Stocked first, priced second: a crash in
        between leaves it unpriced, and an unpriced SKU is not for sale."""
        await self.bridge.ask(
            self._ref("inventory"), AddProduct(sku, name, aisle, unit, min_level, on_hand, user)
        )
        await self.bridge.ask(self._ref("pricing"), SetPrice(sku, price, unit_cost))
        return await self.product(sku)

    async def update_product(
        self,
        sku: str,
        name: str | None = None,
        min_level: int | None = None,
        price: int | None = None,
    ) -> dict[str, Any]:
        await self.product(sku)
        if name is not None or min_level is not None:
            await self.bridge.ask(self._ref("inventory"), UpdateProduct(sku, name, min_level))
        if price is not None:
            await self.bridge.ask(self._ref("pricing"), SetPrice(sku, price))
        return await self.product(sku)

    async def product(self, sku: str) -> dict[str, Any]:
        for item in await self.reader.inventory():
            if item["sku"] == sku:
                return item
        raise NotFound(f"no product {sku}")

    async def alerts(self) -> list[dict[str, Any]]:
        return await self.reader.alerts()

    async def reconcile(self) -> list[dict[str, Any]]:
        return await self.reader.reconcile()

    async def robots(self) -> list[dict[str, Any]]:
        return self.supervisor.hub.robots()

    async def analytics(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.bridge.ask(self._ref("analytics"), Summarize())
        return result

    def subscribe(
        self, types: Iterable[str] | None = None, owner: str | None = None
    ) -> Subscription:
        return self.events.subscribe(self.loop, types, owner)

    def health(self) -> dict[str, bool]:
        return self.supervisor.health()

    async def ping_all(self) -> None:
        """Every core actor answers a ping (raises Unavailable if one does not)."""
        await asyncio.gather(
            *(self.bridge.ask(ref, Ping()) for ref in self.supervisor.refs.values())
        )

    async def order_counts(self) -> list[tuple[str, str, int]]:
        return await self.reader.order_counts()

    # --- lifecycle -----------------------------------------------------------------------

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.events.close_all()
        await self.reader.close()
        await self.loop.run_in_executor(None, self.supervisor.stop)

"""What open orders hold of the stock actor's lots.

A customer order (or a transfer out) holds its lines' stock from its preview: the
lines are allocated to lots first-expired-first-out, all or none, and the lots' `held`
counts grow. The hold ends when the order settles or a processing order is cancelled
(stock.py), or without its stock (`ReleaseOrder`: cancelled, expired, failed). At start
the holds of the open orders are allocated again, not undoable.

Mixed into `StockActor` (same state, same single writer), as `stock_keeping.py` is; it
needs only what `HoldKeeper` names.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol

from autogrocery.actors.stock_items import Allocation, Hold, Item
from autogrocery.domain.messages.stock import ReleaseOrder
from autogrocery.domain.models import Lines
from autogrocery.runtime.base import handles

if TYPE_CHECKING:
    from autogrocery.runtime.unit import UnitOfWork


class HoldKeeper(Protocol):
    """What the holds use of the stock actor."""

    unit: UnitOfWork
    items: dict[str, Item]
    held: dict[str, Hold]  # by order id
    _touched: set[str]

    def _take_hold(self, allocations: tuple[Allocation, ...], sign: int) -> None: ...


class StockHolds:
    @handles(ReleaseOrder)
    def release(self: HoldKeeper, msg: ReleaseOrder) -> object:
        """The order ended without its stock (cancelled, expired, failed); idempotent."""
        order_id = msg.order_id
        hold = self.held.pop(order_id, None)
        if hold is not None:
            self.unit.undo(lambda: self.held.__setitem__(order_id, hold))
            self._take_hold(hold.allocations, -1)
        return msg.answer

    def _allocate(
        self: HoldKeeper, lines: Lines, today: date, *, expired_too: bool = False
    ) -> tuple[Allocation, ...] | None:
        found: list[Allocation] = []
        for line in lines:
            lots = self.items[line.sku].allocate(line.quantity, today, expired_too=expired_too)
            if not lots:
                return None
            found.extend(lots)
        return tuple(found)

    def _hold(
        self: HoldKeeper,
        order_id: str,
        lines: Lines,
        allocations: tuple[Allocation, ...],
        undoable: bool = True,
    ) -> None:
        self.held[order_id] = Hold(lines, allocations)
        if undoable:
            self.unit.undo(lambda: self.held.pop(order_id, None))
            self._take_hold(allocations, +1)
        else:
            for lot, quantity in allocations:
                lot.held += quantity

    def _take_hold(self: HoldKeeper, allocations: tuple[Allocation, ...], sign: int) -> None:
        touched = self._touched
        for lot, quantity in allocations:
            lot.held += sign * quantity
            touched.add(lot.sku)

        def restore() -> None:
            for lot, quantity in allocations:
                lot.held -= sign * quantity

        self.unit.undo(restore)

"""What operators do to stock: describe, add and change products, adjust levels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autogrocery.actors.base import handles
from autogrocery.actors.stock import Stock
from autogrocery.domain.errors import Conflict, NotFound, ValidationError
from autogrocery.domain.messages import (
    AddProduct,
    AdjustStock,
    DescribeSkus,
    PricesChanged,
    UpdateProduct,
)
from autogrocery.domain.models import OPERATOR_REASONS, LineRequest, MovementType

if TYPE_CHECKING:
    from autogrocery.actors.inventory import InventoryActor

    Base = InventoryActor
else:
    Base = object


class StockOperations(Base):
    """Handlers mixed into the inventory actor (same state, same single writer)."""

    @handles(DescribeSkus)
    def describe(self, msg: DescribeSkus) -> dict[str, dict[str, str]]:
        self._known([LineRequest(sku, 1) for sku in msg.skus])
        return {
            sku: {"name": self.stock[sku].name, "aisle": self.stock[sku].aisle} for sku in msg.skus
        }

    @handles(AdjustStock)
    def adjust(self, msg: AdjustStock) -> dict[str, Any]:
        stock = self.stock.get(msg.sku)
        if stock is None:
            raise NotFound(f"no product {msg.sku}")
        if msg.reason not in OPERATOR_REASONS:
            raise ValidationError(
                f"reason must be one of {', '.join(sorted(OPERATOR_REASONS))}",
                [{"field": "reason", "message": "not WASTE, ADJUST or COUNT"}],
            )
        if msg.delta == 0 or (msg.reason == MovementType.WASTE and msg.delta > 0):
            raise ValidationError(
                "delta must be non-zero (and negative for WASTE)",
                [{"field": "delta", "message": "zero, or positive waste"}],
            )
        if stock.on_hand + msg.delta < stock.reserved:
            raise Conflict(
                f"{msg.sku}: on hand {stock.on_hand} {msg.delta:+d} would fall below the "
                f"{stock.reserved} reserved"
            )
        stock.on_hand += msg.delta
        self._write({msg.sku}, [(msg.sku, msg.reason, msg.delta, msg.note, msg.user)])
        return stock.view()

    @handles(AddProduct)
    def add_product(self, msg: AddProduct) -> dict[str, Any]:
        if msg.sku in self.stock:
            raise Conflict(f"product {msg.sku} already exists")
        aisles = {s.aisle for s in self.stock.values()}
        if msg.aisle not in aisles:
            raise ValidationError(
                f"unknown aisle {msg.aisle!r}; robots serve {', '.join(sorted(aisles))}",
                [{"field": "aisle", "message": "no robots serve this aisle"}],
            )
        stock = Stock(msg.sku, msg.name, msg.aisle, msg.unit, msg.on_hand, 0, msg.min_level)
        self.stock[msg.sku] = stock
        movements = [(msg.sku, MovementType.COUNT.value, msg.on_hand, "new-product", msg.user)]
        self._write(
            {msg.sku},
            movements if msg.on_hand else [],
            extra=lambda: self.tables.insert_product(stock),
        )
        return stock.view()

    @handles(UpdateProduct)
    def update_product(self, msg: UpdateProduct) -> dict[str, Any]:
        stock = self.stock.get(msg.sku)
        if stock is None:
            raise NotFound(f"no product {msg.sku}")
        if msg.name is not None:
            stock.name = msg.name
        if msg.min_level is not None:
            stock.min_level = msg.min_level
        self._write({msg.sku}, extra=lambda: self.tables.update_product(stock))
        return stock.view()

    @handles(PricesChanged)
    def prices_changed(self, msg: PricesChanged) -> None:
        self.prices.update(msg.prices)

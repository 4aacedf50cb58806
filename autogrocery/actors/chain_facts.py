"""What stock tells the head office of one batch (docs/chain.md, "Up"): gathered while
the batch is handled, written as one outbox row in the batch's own transaction.

Only for a store in a chain; otherwise stock never makes one.
"""

from __future__ import annotations

from collections.abc import Iterable

from autogrocery.actors.stock_items import Allocation, Item, Lot
from autogrocery.domain.models import Lines, MovementType
from autogrocery.runtime.unit import UnitOfWork
from autogrocery.store.chain_tables import (
    INSERT_FACTS,
    Facts,
    MovementFact,
    ReceiptFact,
    ShipmentFact,
    facts_row,
)


class StockFacts:
    __slots__ = ("_catalog_version", "_everything", "_movements", "_receipts", "_shipments")

    def __init__(self) -> None:
        self._movements: list[MovementFact] = []
        self._shipments: list[ShipmentFact] = []
        self._receipts: list[ReceiptFact] = []
        self._catalog_version: int | None = None
        self._everything = False  # this batch reports every SKU's levels

    def report_all(self, unit: UnitOfWork) -> None:
        """The levels of every SKU go with this batch (how the head office first learns
        them; after that, the SKUs each batch touches)."""
        self._everything = True

        def restore() -> None:
            self._everything = False

        unit.undo(restore)

    def moved(
        self, unit: UnitOfWork, lot: Lot, kind: MovementType, delta: int, ref: str | None, at: float
    ) -> None:
        self._movements.append(
            {
                "sku": lot.sku,
                "type": kind.value,
                "delta": delta,
                "ref": ref,
                "lot_id": lot.lot_id,
                "unit_cost": lot.unit_cost,
                "at": at,
            }
        )
        unit.undo(self._movements.pop)

    def shipped(self, unit: UnitOfWork, shipment: ShipmentFact) -> None:
        self._shipments.append(shipment)
        unit.undo(self._shipments.pop)

    def received(self, unit: UnitOfWork, receipt: ReceiptFact) -> None:
        self._receipts.append(receipt)
        unit.undo(self._receipts.pop)

    def catalog(self, unit: UnitOfWork, version: int) -> None:
        before = self._catalog_version
        self._catalog_version = version

        def restore() -> None:
            self._catalog_version = before

        unit.undo(restore)

    def stage(self, unit: UnitOfWork, touched: list[Item], items: dict[str, Item]) -> None:
        """The batch's row, with the levels of every SKU it touched (of all of them when
        asked to); none if nothing happened that the head office sees."""
        if self._everything:
            touched = list(items.values())
        if not (touched or self._shipments or self._receipts or self._catalog_version):
            return
        facts: Facts = {
            "levels": [
                {"sku": item.sku, "on_hand": item.on_hand, "reserved": item.reserved}
                for item in touched
            ]
        }
        if self._movements:
            facts["movements"] = self._movements
        if self._shipments:
            facts["shipments"] = self._shipments
        if self._receipts:
            facts["receipts"] = self._receipts
        if self._catalog_version is not None:
            facts["catalog_version"] = self._catalog_version
        unit.write(INSERT_FACTS, facts_row("stock", facts))

    def clear(self) -> None:
        self._movements = []
        self._shipments = []
        self._receipts = []
        self._catalog_version = None
        self._everything = False


def shipment(
    transfer_id: str, to_store: str | None, allocations: Iterable[Allocation]
) -> ShipmentFact:
    """What a transfer out took, lot by lot: the receiving store shelves it as it was."""
    return {
        "transfer_id": transfer_id,
        "to_store": to_store or "",
        "lines": [
            {
                "sku": lot.sku,
                "quantity": quantity,
                "unit_cost": lot.unit_cost,
                "expiry_date": lot.expiry.isoformat() if lot.expiry else None,
                "mfd_date": lot.mfd.isoformat() if lot.mfd else None,
            }
            for lot, quantity in allocations
        ],
    }


def receipt(transfer_id: str, from_store: str | None, lines: Lines) -> ReceiptFact:
    """What a transfer in shelved, per SKU."""
    received: dict[str, int] = {}
    for line in lines:
        received[line.sku] = received.get(line.sku, 0) + line.quantity
    return {
        "transfer_id": transfer_id,
        "from_store": from_store or "",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in received.items()],
    }

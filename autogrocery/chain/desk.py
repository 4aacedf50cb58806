"""What the relay asks of the store's actors for the head office: ship or receive a
transfer, apply a catalog version. Each call is idempotent (the transfer id is a key
of the store's orders; a catalog version is applied once), so a redelivered message
changes nothing."""

from __future__ import annotations

from datetime import date

from autogrocery.chain.protocol import CatalogVersion, Receive, Ship
from autogrocery.domain.messages.chain import (
    ApplyCatalog,
    CatalogChange,
    ReceiveTransfer,
    ReportLevels,
    ShipTransfer,
)
from autogrocery.domain.models import LineRequest
from autogrocery.domain.records import OrderRecord
from autogrocery.service.system import System

DETAILS = ("category", "brand", "size", "name_he", "keywords")


async def ship(system: System, msg: Ship) -> OrderRecord:
    items = tuple(LineRequest(item.sku, item.quantity) for item in msg.items)
    order = await system.ask("stock", ShipTransfer(msg.transfer_id, msg.to_store, items))
    return order


async def receive(system: System, msg: Receive) -> OrderRecord | None:
    lines = tuple(
        LineRequest(
            line.sku,
            line.quantity,
            line.unit_cost,
            date.fromisoformat(line.expiry_date) if line.expiry_date else None,
            date.fromisoformat(line.mfd_date) if line.mfd_date else None,
        )
        for line in msg.lines
    )
    order = await system.ask("stock", ReceiveTransfer(msg.transfer_id, msg.from_store, lines))
    return order  # None: nothing of it is sold here


async def apply_catalog(system: System, msg: CatalogVersion) -> int:
    changes = tuple(
        CatalogChange(
            product.sku,
            name=product.name,
            aisle=product.aisle,
            unit=product.unit,
            price=product.price,
            unit_cost=product.unit_cost,
            min_level=product.min_level,
            details={key: value for key in DETAILS if (value := getattr(product, key)) is not None}
            or None,
        )
        for product in msg.products
    )
    version = await system.ask("stock", ApplyCatalog(msg.version, changes))
    return version


async def report_levels(system: System) -> None:
    await system.ask("stock", ReportLevels())

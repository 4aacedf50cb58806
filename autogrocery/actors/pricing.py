"""The pricing actor: bills completed orders and reprices stock after restocks."""

from __future__ import annotations

import logging
import sqlite3

from autogrocery.actors.base import Actor, handles
from autogrocery.actors.context import Context
from autogrocery.domain import events
from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages import (
    BillOrder,
    CompleteOrder,
    Ping,
    PricesChanged,
    RepriceStock,
    SetPrice,
)
from autogrocery.domain.models import now
from autogrocery.domain.money import format_money
from autogrocery.domain.pricing import PricingRule
from autogrocery.store.db import transaction

log = logging.getLogger(__name__)


class PricingActor(Actor):
    name = "pricing"

    def __init__(self, ctx: Context, rule: PricingRule) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_death = ctx.on_death
        self.rule = rule

    def on_start(self) -> None:
        self.db: sqlite3.Connection = self.ctx.connect()

    def close(self) -> None:
        self.db.close()

    @handles(Ping)
    def ping(self, _: Ping) -> str:
        return "pong"

    @handles(BillOrder)
    def bill(self, msg: BillOrder) -> None:
        """The bill is computed once from the prices locked at preview; a repeat re-sends it."""
        total = sum(quantity * unit_price for _, quantity, unit_price in msg.lines)
        with transaction(self.db):
            self.db.execute(
                "INSERT OR IGNORE INTO bills (order_id, total, billed_at) VALUES (?, ?, ?)",
                (msg.order_id, total, now()),
            )
            total = self.db.execute(
                "SELECT total FROM bills WHERE order_id = ?", (msg.order_id,)
            ).fetchone()[0]
        self.ctx.peers.tell("ordering", CompleteOrder(msg.order_id, total))

    @handles(SetPrice)
    def set_price(self, msg: SetPrice) -> dict[str, str]:
        """An operator's price (or a new product's price and cost); upsert."""
        row = self.db.execute(
            "SELECT price, unit_cost FROM prices WHERE sku = ?", (msg.sku,)
        ).fetchone()
        price = msg.price if msg.price is not None else (row[0] if row else None)
        cost = msg.unit_cost if msg.unit_cost is not None else (row[1] if row else 0)
        if price is None:
            raise ValidationError(
                f"{msg.sku} has no price yet", [{"field": "price", "message": "required"}]
            )
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO prices (sku, price, unit_cost, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (sku) DO UPDATE SET price = excluded.price, "
                "unit_cost = excluded.unit_cost, updated_at = excluded.updated_at",
                (msg.sku, price, cost, now()),
            )
        self.ctx.peers.tell("inventory", PricesChanged({msg.sku: price}))
        self.ctx.events.publish(
            events.STOCK_CHANGED, {"sku": msg.sku, "price": format_money(price)}
        )
        return {"price": format_money(price), "unit_cost": format_money(cost)}

    @handles(RepriceStock)
    def reprice(self, msg: RepriceStock) -> None:
        changed: dict[str, int] = {}
        with transaction(self.db):
            first = (
                self.db.execute(
                    "INSERT OR IGNORE INTO repricings (order_id, at) VALUES (?, ?)",
                    (msg.order_id, now()),
                ).rowcount
                == 1
            )
            if first:
                for sku, _, unit_cost, available, min_level in msg.lines:
                    price = self.rule.price(unit_cost, available, min_level)
                    self.db.execute(
                        "UPDATE prices SET price = ?, unit_cost = ?, updated_at = ? WHERE sku = ?",
                        (price, unit_cost, now(), sku),
                    )
                    changed[sku] = price
        if changed:
            self.ctx.peers.tell("inventory", PricesChanged(changed))
            for sku, price in changed.items():
                self.ctx.events.publish(
                    events.STOCK_CHANGED, {"sku": sku, "price": format_money(price)}
                )
            log.info(
                "restock %s repriced %s",
                msg.order_id,
                ", ".join(f"{s}={format_money(p)}" for s, p in changed.items()),
            )
        self.ctx.peers.tell("ordering", CompleteOrder(msg.order_id, None))

"""Days of a store's life, written as the store's actors write them.

Each day, in the order it happens in a store:
- 00:05, the expiry sweep: what expired lots still hold is written off (WASTE,
  "expired", by "system"), as `Housekeeping.expire` does;
- 06:00, deliveries: one restock per aisle (at most 100 lines) for what fell below its
  min level, shelved by robots in chunks (fulfilment's `chunked`), stocked as the stock
  actor settles it (a dated line a lot of its own, an undated one into the undated lot
  at the average cost) and repriced by the store's pricing rule;
- 07:00-22:00, customers' orders: most are previewed, confirmed and picked (their
  lines held from FEFO lots at preview, taken at settlement: OUT movements, robot
  tasks, the settlement row, the metric and its latency row); a few are cancelled as
  previews or left to expire;
- 22:30, what the staff found damaged is written off (WASTE, by "admin").
Every finished order or restock gets the next metric seq, in the order they finish.
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TextIO

import orjson

from autogrocery.actors.analytics_storage import CSV_HEADER, INSERT_LATENCY, _fields
from autogrocery.actors.fulfilment import chunked
from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import TaskLine
from autogrocery.domain.models import MovementType, OrderKind, OrderLine, OrderStatus
from autogrocery.domain.pricing import PricingRule
from autogrocery.domain.records import OrderRecord
from autogrocery.store.ordering_tables import (
    INSERT_LINE,
    INSERT_METRIC,
    INSERT_ORDER,
    line_rows,
    metric_row,
    order_row,
)
from autogrocery.store.statements import Insert
from autogrocery.store.stock_tables import INSERT_MOVEMENT, INSERT_SETTLEMENT
from autogrocery.store.task_tables import INSERT_TASK
from tools.history_stock import SimItem, SimLot, iso
from tools.history_store import BulkStore

DAY = 86_400.0
# A finished robot task: as fulfilment inserts it, then marks it done by a robot.
INSERT_DONE_TASK = Insert("tasks", (*INSERT_TASK.columns, "robot_id"))
RESERVATION_TTL = 600.0  # orders.reservation_ttl
PICK_TIME = 0.05  # robots.pick_time, seconds per item
LINES = (1, 2, 3, 4, 5, 6, 8, 10)
LINE_WEIGHTS = (18, 20, 18, 14, 11, 8, 7, 4)  # about 3.6 lines an order
QUANTITIES = (1, 2, 3, 4, 6)
QUANTITY_WEIGHTS = (60, 24, 9, 4, 3)  # about 1.6 units a line
CANCELLED, EXPIRED = 0.012, 0.006  # of the orders previewed
MAX_RESTOCK_LINES = 100  # orders.max_lines


@dataclass
class Totals:
    orders: int = 0
    cancelled: int = 0
    expired: int = 0
    restocks: int = 0
    movements: int = 0
    wasted_units: int = 0


class History:
    """Writes `days` days ending yesterday (UTC) into `store`, `per_day[d]` completed
    customer orders on day d, from `items` (the catalog, opened) chosen by `weights`."""

    def __init__(
        self,
        store: BulkStore,
        items: list[SimItem],
        weights: list[float],
        first_day: date,
        rng: random.Random,
        csv_file: TextIO,
        households: int,
    ) -> None:
        self.store, self.items, self.rng = store, items, rng
        self.cum = list(_accumulate(weights))
        self.first = first_day.toordinal()
        self.rule = PricingRule(0.30, 0.25, 0.9, 1.5)  # the [pricing] defaults
        self.owners = [_id("usr", rng) for _ in range(households)]
        self.truck = _id("usr", rng)
        self.seq = 0
        self.clock = 0.0  # when the order being made was previewed
        self.totals = Totals()
        self.csv = csv.writer(csv_file)
        self.csv.writerow(CSV_HEADER)
        self.low: dict[str, SimItem] = {}
        self.by_expiry: dict[int, list[SimItem]] = defaultdict(list)

    # --- one day --------------------------------------------------------------------

    def day(self, number: int, completed: int) -> None:
        today = self.first + number
        start = (today - date(1970, 1, 1).toordinal()) * DAY
        self._sweep(today, start + 300.0)
        self._deliver(today, start + 6 * 3600.0)
        self._orders(today, start, completed)
        self._damaged(today, start + 22.5 * 3600.0, max(1, completed // 400))

    def _sweep(self, today: int, at: float) -> None:
        for item in self.by_expiry.pop(today - 1, []):
            for lot in item.lots:
                if lot.expiry is not None and lot.expiry < today and lot.on_hand > 0:
                    self.totals.wasted_units += lot.on_hand
                    self._move(lot, MovementType.WASTE, -lot.on_hand, "expired", "system", at)
            item.drop_empty()
            self._check_low(item, today, at)

    def _deliver(self, today: int, at: float) -> None:
        by_aisle: dict[str, list[SimItem]] = defaultdict(list)
        for item in sorted(self.low.values(), key=lambda item: item.sku):
            by_aisle[item.product.aisle].append(item)
        for n, (aisle, items) in enumerate(sorted(by_aisle.items())):
            for part in range(0, len(items), MAX_RESTOCK_LINES):
                self._restock(today, at + n * 60.0 + part, aisle, items[part : part + 100])

    def _restock(self, today: int, created: float, aisle: str, items: list[SimItem]) -> None:
        restock_id = _id("rst", self.rng, created)
        years = (today - self.first) / 365.0
        lines = []
        for item in items:
            p = item.product
            wanted = max(1, p.stock - item.available(today))
            if p.box_size:
                wanted = math.ceil(wanted / p.box_size) * p.box_size
            cost = max(1, round(p.unit_cost * (1.03**years) * self.rng.uniform(0.97, 1.03)))
            dated = p.shelf_life_days is not None
            expiry = date.fromordinal(today + (p.shelf_life_days or 0)) if dated else None
            mfd = date.fromordinal(today) if dated else None
            lines.append(OrderLine(p.sku, p.name, aisle, wanted, cost, expiry, mfd))
        units = sum(line.quantity for line in lines)
        done = created + 5.0 + PICK_TIME * units + self.rng.uniform(0.0, 2.0)
        order = OrderRecord(
            restock_id,
            OrderKind.RESTOCK,
            self.truck,
            OrderStatus.COMPLETED,
            sum(ln.quantity * ln.unit_price for ln in lines),
            tuple(lines),
            created,
            confirmed_at=created,
            completed_at=done,
            ended_at=done,
        )
        self._write_order(order)
        self._tasks(order, "SHELVE", done)
        for line, item in zip(lines, items, strict=True):
            self._shelve(restock_id, line, item, today, done)
        for line, item in zip(lines, items, strict=True):
            item.unit_cost = line.unit_price
            item.price = self.rule.price(
                line.unit_price, item.available(today), item.product.min_level
            )
            item.priced_at = done
            self._check_low(item, today, done)
        self._settle(order, done)
        self.totals.restocks += 1

    def _shelve(
        self, restock_id: str, line: OrderLine, item: SimItem, today: int, at: float
    ) -> None:
        lot = item.undated() if line.expiry_date is None else None
        if lot is None:
            expiry = line.expiry_date.toordinal() if line.expiry_date else None
            mfd = line.mfd_date.toordinal() if line.mfd_date else None
            lot_id = f"{restock_id}/{line.sku}/{iso(expiry)}" if expiry else f"{line.sku}/undated"
            lot = SimLot(lot_id, line.sku, expiry, mfd, line.unit_price, 0, at, restock_id)
            item.add_lot(lot)
            if expiry is not None:
                self.by_expiry[expiry].append(item)
        elif lot.on_hand + line.quantity > 0:
            lot.unit_cost = (lot.unit_cost * lot.on_hand + line.unit_price * line.quantity) // (
                lot.on_hand + line.quantity
            )
        self._move(lot, MovementType.IN, line.quantity, restock_id, None, at)

    def _orders(self, today: int, start: float, completed: int) -> None:
        rng = self.rng
        cancelled = int(completed * CANCELLED + rng.random())  # rounded at random
        expired = int(completed * EXPIRED + rng.random())
        previewed = completed + cancelled + expired
        times = sorted(
            rng.uniform(start + 7 * 3600.0, start + 22 * 3600.0) for _ in range(previewed)
        )
        outcomes = [OrderStatus.COMPLETED] * completed
        outcomes += [OrderStatus.CANCELLED] * cancelled + [OrderStatus.EXPIRED] * expired
        rng.shuffle(outcomes)
        finishing: list[tuple[float, OrderRecord, list[tuple[SimLot, int]]]] = []
        for created, outcome in zip(times, outcomes, strict=True):
            self.clock = created
            lines, held = self._basket(today, hold=outcome == OrderStatus.COMPLETED)
            order = self._order(created, outcome, lines)
            self._write_order(order)
            if outcome == OrderStatus.COMPLETED:
                finishing.append((order.ended_at or created, order, held))
            elif outcome == OrderStatus.CANCELLED:
                self.totals.cancelled += 1
            else:
                self.totals.expired += 1
        finishing.sort(key=lambda entry: entry[0])
        for done, order, held in finishing:
            for lot, quantity in held:
                self._move(lot, MovementType.OUT, -quantity, order.order_id, None, done)
            self._tasks(order, "PICK", done)
            self._settle(order, done)
            self.totals.orders += 1

    def _basket(
        self, today: int, *, hold: bool
    ) -> tuple[tuple[OrderLine, ...], list[tuple[SimLot, int]]]:
        """An order's lines (by SKU), and for an order that goes through, the lots its
        lines hold (taken off the lots now: it settles within a minute)."""
        rng = self.rng
        count = rng.choices(LINES, LINE_WEIGHTS)[0]
        chosen: dict[str, tuple[SimItem, int]] = {}
        held: list[tuple[SimLot, int]] = []
        for index in rng.choices(range(len(self.items)), cum_weights=self.cum, k=count + 4):
            item = self.items[index]
            if item.sku in chosen or item.price <= 0:
                continue
            quantity = rng.choices(QUANTITIES, QUANTITY_WEIGHTS)[0]
            lots = item.take(quantity, today)
            if not lots:
                continue
            chosen[item.sku] = (item, quantity)
            if hold:
                for lot, part in lots:
                    lot.on_hand -= part
                held.extend(lots)
                self._check_low(item, today, self.clock)
            if len(chosen) == count:
                break
        lines = tuple(
            OrderLine(sku, item.product.name, item.product.aisle, quantity, item.price)
            for sku, (item, quantity) in sorted(chosen.items())
        )
        if hold:
            for item, _ in chosen.values():
                item.drop_empty()
        return lines, held

    def _order(
        self, created: float, outcome: OrderStatus, lines: tuple[OrderLine, ...]
    ) -> OrderRecord:
        rng = self.rng
        order_id = _id("ord", rng, created)
        owner = self.owners[int(rng.random() * len(self.owners))]
        total = sum(line.quantity * line.unit_price for line in lines)
        expires = created + RESERVATION_TTL
        if outcome in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            if outcome == OrderStatus.CANCELLED:
                ended = created + rng.uniform(5.0, 300.0)
            else:
                ended = expires + rng.uniform(0.0, 1.0)
            return OrderRecord(
                order_id,
                OrderKind.CUSTOMER,
                owner,
                outcome,
                total,
                lines,
                created,
                ended_at=ended,
                expires_at=expires,
            )
        confirmed = created + min(RESERVATION_TTL - 1.0, rng.lognormvariate(2.5, 0.8))
        items = sum(line.quantity for line in lines)
        done = confirmed + PICK_TIME * items + rng.uniform(0.005, 0.3)
        return OrderRecord(
            order_id,
            OrderKind.CUSTOMER,
            owner,
            outcome,
            total,
            lines,
            created,
            confirmed_at=confirmed,
            completed_at=done,
            ended_at=done,
            expires_at=expires,
        )

    def _damaged(self, today: int, at: float, count: int) -> None:
        rng = self.rng
        for index in rng.choices(range(len(self.items)), cum_weights=self.cum, k=count):
            item = self.items[index]
            for lot, part in item.take(rng.choice((1, 1, 2)), today):
                self._move(lot, MovementType.WASTE, -part, "damaged in the aisle", "admin", at)
                self.totals.wasted_units += part
            item.drop_empty()
            self._check_low(item, today, at)

    # --- rows -------------------------------------------------------------------------

    def _write_order(self, order: OrderRecord) -> None:
        self.store.add(INSERT_ORDER, order_row(order))
        self.store.add_all(INSERT_LINE, line_rows(order))

    def _tasks(self, order: OrderRecord, op: str, done: float) -> None:
        by_aisle: dict[str, list[TaskLine]] = defaultdict(list)
        for line in order.lines:
            by_aisle[line.aisle].append(TaskLine(line.sku, line.quantity))
        for aisle, task_lines in sorted(by_aisle.items()):
            parts = [tuple(task_lines)] if op == "PICK" else chunked(task_lines, 10)
            width = len(str(len(parts)))
            for number, part in enumerate(parts, 1):
                task_id = f"{order.order_id}.{aisle}" + (
                    f".{number:0{width}}" if len(parts) > 1 else ""
                )
                lines = orjson.dumps([[ln.sku, ln.quantity] for ln in part])
                self.store.add(
                    INSERT_DONE_TASK,
                    (task_id, order.order_id, op, aisle, lines, "DONE", 0, done, f"{aisle}-1"),
                )

    def _settle(self, order: OrderRecord, done: float) -> None:
        """Stock's settlement row, ordering's metric and analytics' latency row."""
        self.store.add(INSERT_SETTLEMENT, (order.order_id, order.kind.value, done))
        self.seq += 1
        metric = Metric(
            self.seq,
            order.kind,
            order.order_id,
            order.status.value,
            order.items,
            order.created_at,
            done,
        )
        self.store.add(INSERT_METRIC, metric_row(metric))
        self.store.add(INSERT_LATENCY, (*metric_row(metric), metric.latency_ms))
        self.csv.writerow(_fields(metric))

    def _move(
        self,
        lot: SimLot,
        kind: MovementType,
        delta: int,
        ref: str | None,
        user: str | None,
        at: float,
    ) -> None:
        if kind != MovementType.OUT:  # an order's lots were taken when it was previewed
            lot.on_hand += delta
        self.store.add(INSERT_MOVEMENT, (lot.sku, kind.value, delta, ref, user, at, lot.lot_id))
        self.totals.movements += 1

    def _check_low(self, item: SimItem, today: int, at: float) -> None:
        if item.available(today) < item.product.min_level:
            if item.low_since is None:
                item.low_since = at
            self.low[item.sku] = item
        else:
            item.low_since = None
            self.low.pop(item.sku, None)


def _accumulate(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _id(prefix: str, rng: random.Random, at: float | None = None) -> str:
    """As `new_id` makes them: 48 bits of milliseconds, then 48 random bits."""
    ms = int(at * 1000) if at is not None else rng.getrandbits(40)
    return f"{prefix}_{ms:012x}{rng.getrandbits(48):012x}"

"""What a batch of new events does to the read model's per-store, per-SKU and per-day
rows, folded in memory first, so that a batch costs a few statements per table instead
of several per event (on PostgreSQL each statement is a round trip: BENCHMARKS.md,
"The head office's apply path"). Folding gives the rows the event-by-event statements
gave, in the same order of events:

- a SKU's level: the one of the event with the highest sequence (the later one of a
  tie), and the database keeps it only if it is newer than the one it holds;
- a day's sales and waste: sums;
- a store's intake columns: maxima, a count, the last heartbeat's units, and where its
  stream stands (`StoreFold.stream_seq`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from autogrocery.central.readmodel import Arrival
from autogrocery.chain.protocol import UpEvent


@dataclass(slots=True)
class StoreFold:
    """One store's events of the batch, as its `stores` row must change."""

    last_seen: float
    last_event_at: float
    hwm: int
    applied: int
    stream: str | None
    stream_seq: int
    # True while every event of the batch came from the stream it ends on: then the
    # row's own stream_seq counts too if the row is on that stream already.
    one_stream: bool
    on_hand_units: int | None
    catalog_version: int

    @classmethod
    def first(cls, arrival: Arrival, event: UpEvent) -> StoreFold:
        facts = event.facts
        return cls(
            float(arrival.received_at),
            float(event.at),
            event.seq,
            1,
            arrival.stream,
            arrival.stream_seq,
            True,
            facts.on_hand_units,
            facts.catalog_version or 0,
        )

    def add(self, arrival: Arrival, event: UpEvent) -> None:
        facts = event.facts
        self.last_seen = max(self.last_seen, arrival.received_at)
        self.last_event_at = max(self.last_event_at, event.at)
        self.hwm = max(self.hwm, event.seq)
        self.applied += 1
        if arrival.stream == self.stream:
            self.stream_seq = max(self.stream_seq, arrival.stream_seq)
        else:  # a new epoch's stream: its sequence starts again
            self.stream, self.stream_seq, self.one_stream = (
                arrival.stream,
                arrival.stream_seq,
                False,
            )
        if facts.on_hand_units is not None:
            self.on_hand_units = facts.on_hand_units
        self.catalog_version = max(self.catalog_version, facts.catalog_version or 0)


@dataclass(slots=True)
class Fold:
    levels: dict[tuple[str, str], tuple[int, int, int]]  # (store, sku) -> on_hand, reserved, seq
    days: dict[tuple[str, str], list[int]]  # (store, day) -> orders, revenue, waste value
    stores: dict[str, StoreFold]

    @classmethod
    def of(cls, fresh: list[tuple[Arrival, UpEvent]], zone: datetime.tzinfo) -> Fold:
        fold = cls({}, {}, {})
        for arrival, event in fresh:
            fold._event(arrival, event, zone)
        return fold

    def _event(self, arrival: Arrival, event: UpEvent, zone: datetime.tzinfo) -> None:
        store, facts = event.store_id, event.facts
        for level in facts.levels:
            key = (store, level.sku)
            held = self.levels.get(key)
            if held is None or event.seq >= held[2]:
                self.levels[key] = (level.on_hand, level.reserved, event.seq)
        for movement in facts.movements:
            if movement.type == "WASTE" and movement.delta < 0:
                self._day(store, movement.at, zone)[2] += -movement.delta * movement.unit_cost
        for order in facts.orders:
            if order.kind == "CUSTOMER" and order.status == "COMPLETED":
                day = self._day(store, order.ended_at, zone)
                day[0] += 1
                day[1] += order.total
        folded = self.stores.get(store)
        if folded is None:
            self.stores[store] = StoreFold.first(arrival, event)
        else:
            folded.add(arrival, event)

    def _day(self, store: str, at: float, zone: datetime.tzinfo) -> list[int]:
        day = datetime.datetime.fromtimestamp(at, zone).date().isoformat()
        return self.days.setdefault((store, day), [0, 0, 0])

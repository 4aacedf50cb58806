"""The orders' records (`ordering.py`), as it makes them and as it writes them.

A new order starts as one of three records: a customer's preview (held until its
reservation time runs out), a transfer this store refused (failed at once), or a
restock or transfer under way (processing, confirmed as it is made). At the end of a
batch each changed order is written once: inserted with its lines if it is new, else
updated; for a store in a chain, the orders that ended go to the outbox too. Pure
functions of the records: the actor decides when, and stages what they give.
"""

from __future__ import annotations

from collections.abc import Iterator

from autogrocery.domain.messages.ordering import CreateOrder
from autogrocery.domain.models import FINAL_STATUSES, OrderStatus, lines_total
from autogrocery.domain.records import OrderRecord
from autogrocery.store.chain_tables import INSERT_FACTS, OrderEndFact, facts_row
from autogrocery.store.ordering_tables import (
    INSERT_LINE,
    INSERT_ORDER,
    UPDATE_ORDER,
    line_rows,
    order_row,
    update_row,
)
from autogrocery.store.statements import Statement, Value


def previewed_order(msg: CreateOrder, created: float, ttl: float) -> OrderRecord:
    """A customer's order: a preview that holds its stock for `ttl` seconds."""
    return OrderRecord(
        msg.order_id,
        msg.kind,
        msg.owner,
        OrderStatus.PREVIEWED,
        lines_total(msg.lines),
        msg.lines,
        created,
        expires_at=created + ttl,
        request_key=msg.request_key,
        request_hash=msg.request_hash,
    )


def refused_order(msg: CreateOrder, created: float) -> OrderRecord:
    """A transfer this store cannot ship: it ends as it is made."""
    return OrderRecord(
        msg.order_id,
        msg.kind,
        msg.owner,
        OrderStatus.FAILED,
        lines_total(msg.lines),
        msg.lines,
        created,
        ended_at=created,
        reason=msg.refused,
        request_key=msg.request_key,
        request_hash=msg.request_hash,
    )


def processing_order(msg: CreateOrder, created: float) -> OrderRecord:
    """A restock or a transfer: under way (confirmed) as it is made."""
    return OrderRecord(
        msg.order_id,
        msg.kind,
        msg.owner,
        OrderStatus.PROCESSING,
        lines_total(msg.lines),
        msg.lines,
        created,
        confirmed_at=created,
        request_key=msg.request_key,
        request_hash=msg.request_hash,
    )


def order_writes(
    changed: dict[str, OrderRecord], new: set[str], chain: bool
) -> Iterator[tuple[Statement, tuple[Value, ...]]]:
    """Each changed order's final state, once: inserted if new, else updated; for a
    store in a chain, those that ended, to the outbox."""
    ended: list[OrderEndFact] = []
    for order_id, order in changed.items():
        if order_id in new:
            yield INSERT_ORDER, order_row(order)
            for row in line_rows(order):
                yield INSERT_LINE, row
        else:
            yield UPDATE_ORDER, update_row(order)
        if chain and order.status in FINAL_STATUSES:
            ended.append(_order_end(order))
    if ended:
        yield INSERT_FACTS, facts_row("orders", {"orders": ended})


def _order_end(order: OrderRecord) -> OrderEndFact:
    """An order that reached its final status, as the head office hears of it
    (chain protocol's OrderEnd: cents and Unix seconds)."""
    ended_at = order.ended_at
    assert ended_at is not None  # noqa: S101 (every move to a final status stamps it)
    return {
        "order_id": order.order_id,
        "kind": order.kind.value,
        "status": order.status.value,
        "total": order.total,
        "items": order.items,
        "ended_at": ended_at,
        "reason": order.reason,
        "transfer_id": order.request_key if order.kind.transfer else None,
    }

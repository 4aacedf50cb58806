"""What the `System` facade checks, as plain functions of what it was given or read.

A listing's filters and page size; a retry with an Idempotency-Key against the order
that key made (the same lines, or IdempotencyMismatch), and the answer it gets again;
and the books: each lot's and each SKU's on_hand against the sum of its movements.
Nothing here asks an actor or reads the store: `System` does, then calls these.
"""

from __future__ import annotations

import dataclasses

from autogrocery.domain.errors import IdempotencyMismatch, ValidationError
from autogrocery.domain.models import LineRequest, MovementType, OrderStatus
from autogrocery.domain.records import OrderRecord, StockLevel
from autogrocery.service.answers import LotCheck, SkuCheck


def check_status(status: str | None) -> None:
    if status is not None and status not in OrderStatus.__members__:
        raise ValidationError(
            f"unknown status {status!r}", [{"field": "status", "message": "unknown status"}]
        )


def check_movement_type(movement_type: str | None) -> None:
    if movement_type is not None and movement_type not in MovementType.__members__:
        raise ValidationError(
            f"unknown movement type {movement_type!r}",
            [{"field": "type", "message": "not IN, OUT, WASTE, ADJUST or COUNT"}],
        )


def check_limit(limit: int, most: int) -> None:
    """A page holds 1 to `most` entries."""
    if not 1 <= limit <= most:
        raise ValidationError(
            f"limit must be between 1 and {most}", [{"field": "limit", "message": "out of range"}]
        )


def answer_again(
    order: OrderRecord, lines: tuple[LineRequest, ...] | None, restock: bool
) -> OrderRecord:
    """What the preview or restock that made `order` answered when it was made (the
    order may have moved on since), for a retry with its key. Given the retry's `lines`
    (an order made before requests' digests were kept), other lines than the order's
    are IdempotencyMismatch."""
    if lines is not None:
        asked = sorted((ln.sku, ln.quantity, ln.unit_cost or 0, ln.expiry_date) for ln in lines)
        made = sorted(
            (ln.sku, ln.quantity, ln.unit_price if restock else 0, ln.expiry_date)
            for ln in order.lines
        )
        if asked != made:
            raise IdempotencyMismatch()
    if restock:
        return order.moved(OrderStatus.PROCESSING)
    return dataclasses.replace(
        order,
        status=OrderStatus.PREVIEWED,
        confirmed_at=None,
        completed_at=None,
        ended_at=None,
        reason=None,
        # expires_at as stored: the first answer's (a refused confirm's shorter hold
        # lives in memory only).
    )


def lot_checks(lots: list[tuple[str, int, int]]) -> list[LotCheck]:
    """Each lot's on_hand against the sum of its movements."""
    return [
        {"lot_id": lot, "on_hand": on_hand, "ledger": total, "ok": on_hand == total}
        for lot, on_hand, total in lots
    ]


def sku_checks(
    ledger: dict[str, tuple[int, int]], stock_levels: list[StockLevel]
) -> list[SkuCheck]:
    """Each SKU's stored on_hand against its ledger, and what is reserved against what
    is on hand (the stock actor's levels)."""
    levels = {level.sku: level for level in stock_levels}
    report: list[SkuCheck] = []
    for sku, (stored, total) in sorted(ledger.items()):
        level = levels.get(sku)
        reserved = level.reserved if level is not None else 0
        on_hand = level.on_hand if level is not None else stored
        report.append(
            {
                "sku": sku,
                "on_hand": stored,
                "reserved": reserved,
                "ledger": total,
                "ok": total == stored and 0 <= reserved <= on_hand,
            }
        )
    return report

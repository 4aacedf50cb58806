"""The orders (a part of the stock actor): confirming, cancelling, expiring and failing
orders; what stock stores as one (`CreateOrder`)."""

from __future__ import annotations

from dataclasses import dataclass

from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.models import Lines, OrderKind
from autogrocery.domain.records import Confirmation, OrderRecord


@dataclass(frozen=True, slots=True)
class CreateOrder:
    """An order to store (PREVIEWED), or a restock or transfer (PROCESSING), whose lines
    stock has checked and, for an order or a transfer out, holds (`Orders.create`, in
    the same batch: not a message). A transfer out stock could not reserve comes
    `refused` (why): it is stored FAILED."""

    order_id: str
    kind: OrderKind
    owner: str
    lines: Lines
    request_key: str | None = None  # a client's Idempotency-Key, or a transfer's id
    refused: str | None = None
    request_hash: str | None = None  # with a client's key: its request's digest


@dataclass(frozen=True, slots=True)
class ConfirmOrder(Answered[Confirmation]):
    order_id: str
    owner: str | None  # None: an operator acting on any order


@dataclass(frozen=True, slots=True)
class CancelOrder(Answered[OrderRecord]):
    """Cancel a preview, or an order robots are picking (until the last pick
    is done); `previews_only` keeps the original clients' rule (a preview only)."""

    order_id: str
    owner: str | None
    previews_only: bool = False


@dataclass(frozen=True, slots=True)
class ExpireDue:
    """Previews past their reservation time expire and free their stock."""


@dataclass(frozen=True, slots=True)
class FailOrder:
    order_id: str
    reason: str

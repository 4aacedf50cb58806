"""Analytics: the metric of each finished order or restock (it may cross hosts, so it
carries a `kind` and the wire version), and what analytics is asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypedDict

from autogrocery.domain.messages.answered import Answered
from autogrocery.domain.messages.wire import WIRE_VERSION, WireError, require
from autogrocery.domain.models import OrderKind


@dataclass(frozen=True, slots=True)
class Metric:
    """One finished order or restock, numbered by the store's durable outbox."""

    KIND: ClassVar[str] = "metric"
    seq: int
    order_kind: OrderKind
    order_id: str
    status: str
    items: int
    created_at: float
    finished_at: float

    @property
    def latency_ms(self) -> float:
        return round((self.finished_at - self.created_at) * 1000.0, 3)

    def to_wire(self) -> dict[str, object]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "seq": self.seq,
            "order_kind": self.order_kind.value,
            "order_id": self.order_id,
            "status": self.status,
            "items": self.items,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> Metric:
        try:
            return cls(
                seq=require(data, "seq", int),
                order_kind=OrderKind(require(data, "order_kind", str)),
                order_id=require(data, "order_id", str),
                status=require(data, "status", str),
                items=require(data, "items", int),
                created_at=float(require(data, "created_at", (int, float))),
                finished_at=float(require(data, "finished_at", (int, float))),
            )
        except ValueError as exc:
            raise WireError(f"bad metric: {exc}") from None


class Latencies(TypedDict):
    """Completed orders' latency percentiles, in ms (None until one completed)."""

    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


class KindSummary(TypedDict):
    """One kind's counts, latencies and finishes in the last minute."""

    completed: int
    failed: int
    cancelled: int
    latency_ms: Latencies
    per_minute: int


class Summary(TypedDict):
    """What analytics answers `Summarize`: the summary of each kind (as /api/ops/analytics
    shows it)."""

    customer: KindSummary
    restock: KindSummary


@dataclass(frozen=True, slots=True)
class Summarize(Answered[Summary]):
    pass


@dataclass(frozen=True, slots=True)
class LastSeq(Answered[int]):
    """Ask analytics for the highest metric sequence number it has recorded."""

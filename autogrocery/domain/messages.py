"""Messages between actors (commands imperative, events past tense).

Everything that may cross hosts (robot tasks, task reports, metrics) carries a
`kind` and a schema version `v` on the wire and encodes to plain JSON data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from autogrocery.domain.models import LineRequest, Lines, OrderKind, TaskKind

WIRE_VERSION = 1


class WireError(ValueError):
    """A wire message that is not what its kind promises."""


def _require(data: dict[str, Any], key: str, typ: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is not bool):
        raise WireError(f"{data.get('kind')}: field {key!r} missing or not {typ}")
    return value


@dataclass(frozen=True, slots=True)
class TaskLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class RobotTask:
    """Pick (customer order) or shelve (restock) the lines of one aisle, or a chunk of
    them (shelving is cut into chunks). A robot does the tasks it holds lowest
    `priority` first (`TaskKind.priority`: customer picks before shelving)."""

    KIND: ClassVar[str] = "task"
    task_id: str
    order_id: str
    op: TaskKind
    aisle: str
    lines: tuple[TaskLine, ...]
    attempt: int = 1
    priority: int = 0

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "task_id": self.task_id,
            "order_id": self.order_id,
            "op": self.op.value,
            "aisle": self.aisle,
            "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in self.lines],
            "attempt": self.attempt,
            "priority": self.priority,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RobotTask:
        try:
            lines = tuple(
                TaskLine(_require(ln, "sku", str), _require(ln, "quantity", int))
                for ln in _require(data, "lines", list)
            )
            op = TaskKind(_require(data, "op", str))
            return cls(
                task_id=_require(data, "task_id", str),
                order_id=_require(data, "order_id", str),
                op=op,
                aisle=_require(data, "aisle", str),
                lines=lines,
                attempt=_require(data, "attempt", int),
                # A store older than priorities sends none: the op's own.
                priority=_require(data, "priority", int) if "priority" in data else op.priority,
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise WireError(f"bad task: {exc}") from None


@dataclass(frozen=True, slots=True)
class TaskReport:
    """A robot's outcome for one task. Duplicates are expected and harmless."""

    KIND: ClassVar[str] = "report"
    task_id: str
    robot_id: str
    ok: bool
    error: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "task_id": self.task_id,
            "robot_id": self.robot_id,
            "ok": self.ok,
            "error": self.error,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> TaskReport:
        error = data.get("error")
        if error is not None and not isinstance(error, str):
            raise WireError("report: field 'error' must be a string or null")
        return cls(
            task_id=_require(data, "task_id", str),
            robot_id=_require(data, "robot_id", str),
            ok=_require(data, "ok", bool),
            error=error,
        )


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """A robot at work on a long task says how far it got (`done` of `of` units), so
    that the store sees it alive and what it does."""

    KIND: ClassVar[str] = "progress"
    task_id: str
    robot_id: str
    done: int
    of: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.KIND,
            "v": WIRE_VERSION,
            "task_id": self.task_id,
            "robot_id": self.robot_id,
            "done": self.done,
            "of": self.of,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> TaskProgress:
        return cls(
            task_id=_require(data, "task_id", str),
            robot_id=_require(data, "robot_id", str),
            done=_require(data, "done", int),
            of=_require(data, "of", int),
        )


@dataclass(frozen=True, slots=True)
class WithdrawTasks:
    """A robot: drop these tasks if it has not begun them (their order was cancelled).
    One it is doing or has done is reported as usual; the store ignores that report."""

    KIND: ClassVar[str] = "withdraw"
    task_ids: tuple[str, ...]


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

    def to_wire(self) -> dict[str, Any]:
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
    def from_wire(cls, data: dict[str, Any]) -> Metric:
        try:
            return cls(
                seq=_require(data, "seq", int),
                order_kind=OrderKind(_require(data, "order_kind", str)),
                order_id=_require(data, "order_id", str),
                status=_require(data, "status", str),
                items=_require(data, "items", int),
                created_at=float(_require(data, "created_at", (int, float))),
                finished_at=float(_require(data, "finished_at", (int, float))),
            )
        except ValueError as exc:
            raise WireError(f"bad metric: {exc}") from None


# --- in-process commands and queries ---------------------------------------------
# Commands are imperative; each names the actor that takes it.


@dataclass(frozen=True, slots=True)
class Ping:
    """Any actor: answers "pong" (the supervisor's start barrier and /readyz)."""


@dataclass(frozen=True, slots=True)
class Recover:
    """Ordering and analytics: resume what a crash or restart interrupted."""


@dataclass(frozen=True, slots=True)
class PreviewOrder:
    """Stock: reserve and price `lines`, then ordering stores the order (one step)."""

    owner: str
    lines: tuple[LineRequest, ...]
    request_key: str | None = None  # a client's Idempotency-Key: one order per key


@dataclass(frozen=True, slots=True)
class CreateRestock:
    """Stock: name the lines of a truck's manifest, then ordering stores the restock."""

    owner: str
    lines: tuple[LineRequest, ...]
    request_key: str | None = None


@dataclass(frozen=True, slots=True)
class CreateOrder:
    """Ordering: store an order (PREVIEWED), or a restock or transfer (PROCESSING), whose
    lines stock has checked and, for an order or a transfer out, reserved. A transfer
    out stock could not reserve comes `refused` (why): it is stored FAILED."""

    order_id: str
    kind: OrderKind
    owner: str
    lines: Lines
    request_key: str | None = None
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class ShipTransfer:
    """Stock: the head office asks this store to ship `items` to `to_store`: reserve
    them (FEFO) for a TRANSFER_OUT order keyed by the transfer id, or refuse."""

    transfer_id: str
    to_store: str
    items: tuple[LineRequest, ...]


@dataclass(frozen=True, slots=True)
class ReceiveTransfer:
    """Stock: a shipment from `from_store` is on its way: a TRANSFER_IN order keyed by
    the transfer id, its lines as shipped (lot dates and costs kept)."""

    transfer_id: str
    from_store: str
    lines: tuple[LineRequest, ...]


@dataclass(frozen=True, slots=True)
class ReportLevels:
    """Stock: tell the head office every SKU's levels (one outbox row), as the relay of
    a store in a chain starts: the levels it reports after are those that change."""


@dataclass(frozen=True, slots=True)
class ApplyCatalog:
    """Stock: apply a catalog version of the head office (each once, in order)."""

    version: int
    products: tuple[CatalogChange, ...]


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """A product as a catalog version sets it; None: left as it is."""

    sku: str
    name: str | None = None
    aisle: str | None = None
    unit: str | None = None
    price: int | None = None
    unit_cost: int | None = None
    min_level: int | None = None
    details: dict[str, Any] | None = None  # ProductDetails fields it sets


@dataclass(frozen=True, slots=True)
class ConfirmOrder:
    order_id: str
    owner: str | None  # None: an operator acting on any order


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Ordering: cancel a preview, or an order robots are picking (until the last pick
    is done); `previews_only` keeps the original clients' rule (a preview only)."""

    order_id: str
    owner: str | None
    previews_only: bool = False


@dataclass(frozen=True, slots=True)
class WithdrawOrder:
    """Fulfilment: take back the robot work of a processing order being cancelled, and
    tell stock which SKUs the robots had picked. Refused once every pick is done."""

    order_id: str


@dataclass(frozen=True, slots=True)
class CancelPicked:
    """Stock: a processing order was cancelled: free what it held and put what robots had
    picked (`picked` SKUs) back into its lots (OUT, then RETURN), once."""

    order_id: str
    picked: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CloseCancelled:
    """Ordering: stock has taken back what a cancelled processing order held: it is
    CANCELLED (and analytics hears of it)."""

    order_id: str


@dataclass(frozen=True, slots=True)
class ExpireDue:
    """Ordering: previews past their reservation time expire and free their stock."""


@dataclass(frozen=True, slots=True)
class ReleaseOrder:
    """Stock: the order ended without taking its stock; `answer` is the reply to give."""

    order_id: str
    answer: object = None


@dataclass(frozen=True, slots=True)
class DispatchOrder:
    """Fulfilment: send (or, with `resume`, send again) the robot work of an order. A
    transfer carries its id (`ref`) and the other store (`peer`) on to its settling."""

    order_id: str
    kind: OrderKind
    lines: Lines
    resume: bool = False
    ref: str | None = None
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class RetryTask:
    task_id: str


@dataclass(frozen=True, slots=True)
class AbandonTask:
    """No robot of the task's aisle came within the deadline: fail its order."""

    task_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SettleOrder:
    """Stock: every robot task is done; take (order, transfer out) or add (restock,
    transfer in) the stock, once."""

    order_id: str
    kind: OrderKind
    lines: Lines
    ref: str | None = None
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class CompleteOrder:
    """Ordering: stock was settled; bill the order and mark it COMPLETED."""

    order_id: str


@dataclass(frozen=True, slots=True)
class FailOrder:
    order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AddProduct:
    sku: str
    name: str
    aisle: str
    unit: str
    min_level: int
    on_hand: int
    price: int
    unit_cost: int
    user: str


@dataclass(frozen=True, slots=True)
class UpdateProduct:
    sku: str
    name: str | None = None
    min_level: int | None = None
    price: int | None = None


@dataclass(frozen=True, slots=True)
class AdjustStock:
    sku: str
    delta: int
    reason: str
    note: str | None
    user: str
    lot_id: str | None = None  # None: taken FEFO (waste: expired lots first) or added undated


@dataclass(frozen=True, slots=True)
class ExpireLots:
    """Stock: write off what expired lots hold beyond open orders' holds (WASTE, reason
    "expired"), and raise or clear expiry alerts. Idempotent: run at start and hourly."""


@dataclass(frozen=True, slots=True)
class ExpiringLots:
    """Stock: lots with stock whose best-before date is within `days` days (or past)."""

    days: int


@dataclass(frozen=True, slots=True)
class StockLevels:
    """Stock: every product's levels and price, as stock holds them now."""


@dataclass(frozen=True, slots=True)
class Summarize:
    pass


@dataclass(frozen=True, slots=True)
class LastSeq:
    """Ask analytics for the highest metric sequence number it has recorded."""


@dataclass(frozen=True, slots=True)
class OpenAlerts:
    """Stock: the products whose available stock is below their min level."""

"""Pure domain rules: money, validation, pricing and wire messages."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import RobotTask, TaskLine, TaskReport
from autogrocery.domain.messages.wire import WireError
from autogrocery.domain.models import OrderKind, TaskKind
from autogrocery.domain.money import MAX_CENTS, format_money, parse_money
from autogrocery.domain.pricing import PricingRule
from autogrocery.domain.validation import parse_lines

RULE = PricingRule(margin=0.30, scarcity_weight=0.25, min_factor=0.9, max_factor=1.5)


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_money_round_trips(cents: int) -> None:
    assert parse_money(format_money(cents)) == cents


@pytest.mark.parametrize(
    "bad",
    [
        *("1.001", "-1.00", "abc", "NaN", "Infinity", 1.5, None, True, "", "1e3", "1E+30"),
        *(" 5 ", "5\n", "1_000", "+5", ".5", "5.", "\uff11\uff12.\uff15\uff10", "\u0663"),
    ],
)
def test_money_rejects_what_is_not_a_two_place_ascii_amount(bad: object) -> None:
    with pytest.raises(ValueError, match=r"expected|two decimal|non-negative"):
        parse_money(bad)


@pytest.mark.parametrize(
    "huge", ["1" + "0" * 26, "9" * 40 + ".5", 10**30, "1000000000", "0000000001.00", 10**9]
)
def test_money_too_large_is_a_value_error_however_many_digits(huge: object) -> None:
    # Found by the schema-driven fuzz: 27+ digits used to raise decimal.InvalidOperation
    # (a 500 on POST /api/restocks) instead of a ValueError (a 400).
    with pytest.raises(ValueError, match="too large"):
        parse_money(huge)


def test_pricing_at_min_level_is_cost_plus_margin() -> None:
    assert RULE.price(unit_cost=1000, available=40, min_level=40) == 1300


def test_pricing_rises_when_scarce_and_falls_when_plentiful() -> None:
    scarce = RULE.price(1000, available=5, min_level=40)
    plenty = RULE.price(1000, available=400, min_level=40)
    assert plenty < 1300 < scarce


@given(
    cost=st.integers(min_value=0, max_value=10**7),
    available=st.integers(min_value=0, max_value=10**6),
    min_level=st.integers(min_value=0, max_value=10**5),
)
def test_pricing_stays_within_its_bounds(cost: int, available: int, min_level: int) -> None:
    price = RULE.price(cost, available, min_level)
    assert price >= max(cost, 1)
    assert price <= max(round(cost * 1.3 * 1.5) + 1, 1)


def test_validation_merges_repeated_skus() -> None:
    lines = parse_lines(
        [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 3}],
        max_quantity=10,
        max_lines=5,
    )
    assert [(ln.sku, ln.quantity) for ln in lines] == [("A", 5), ("B", 1)]


def test_validation_names_every_bad_field() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_lines(
            [{"sku": "A", "quantity": 0}, {"sku": "", "quantity": 1}, {"sku": "C", "qty": 1}],
            max_quantity=10,
            max_lines=5,
        )
    fields = [e["field"] for e in raised.value.extra["errors"]]
    assert fields == ["items[0].quantity", "items[1].sku", "items[2].qty", "items[2].quantity"]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_validation_accepts_only_well_formed_lines(items: object) -> None:
    try:
        lines = parse_lines(items, max_quantity=1000, max_lines=100)
    except ValidationError as exc:
        error = exc
    else:
        error = None
        assert lines
        assert all(isinstance(ln.sku, str) and 1 <= ln.quantity <= 1000 for ln in lines)
    if error is not None:
        assert error.detail
        assert error.extra["errors"]


def test_wire_messages_round_trip_through_json() -> None:
    task = RobotTask("o.bread", "o", TaskKind.PICK, "bread", (TaskLine("BRD-001", 2),), 2)
    report = TaskReport("o.bread", "bread-1", False, "gripper fault")
    metric = Metric(7, OrderKind.CUSTOMER, "o", "COMPLETED", 3, 1.0, 1.25)
    for message in (task, report, metric):
        wire = orjson.loads(orjson.dumps(message.to_wire()))
        assert wire["kind"] == message.KIND
        assert wire["v"] == 1
        assert type(message).from_wire(wire) == message
    assert metric.latency_ms == 250.0


@pytest.mark.parametrize(
    ("cls", "wire"),
    [
        (RobotTask, {"kind": "task", "task_id": 1}),
        (
            RobotTask,
            {
                "kind": "task",
                "task_id": "t",
                "order_id": "o",
                "op": "DANCE",
                "aisle": "a",
                "lines": [],
                "attempt": 1,
            },
        ),
        (TaskReport, {"kind": "report", "task_id": "t", "robot_id": "r", "ok": "yes"}),
        (Metric, {"kind": "metric", "seq": "1"}),
    ],
)
def test_malformed_wire_messages_raise_wire_error(cls: type, wire: dict) -> None:
    with pytest.raises(WireError):
        cls.from_wire(wire)

"""Pure domain rules: money, validation, pricing and wire messages."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autogrocery.domain.errors import ValidationError
from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import RobotTask, TaskLine, TaskReport
from autogrocery.domain.messages.wire import WireError
from autogrocery.domain.models import LineRequest, OrderKind, TaskKind
from autogrocery.domain.money import MAX_CENTS, format_money, parse_money
from autogrocery.domain.pricing import PricingRule
from autogrocery.domain.validation import check_lines

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
    lines = check_lines(
        [LineRequest("A", 2), LineRequest("B", 1), LineRequest("A", 3)],
        max_quantity=10,
        max_lines=5,
    )
    assert [(ln.sku, ln.quantity) for ln in lines] == [("A", 5), ("B", 1)]


def test_a_deliverys_lines_of_one_sku_and_other_dates_stay_apart() -> None:
    soon, later = date(2026, 12, 1), date(2026, 12, 9)
    lines = check_lines(
        [
            LineRequest("A", 2, 100, soon),
            LineRequest("A", 3, 100, later),
            LineRequest("A", 1, 100, soon),
        ],
        max_quantity=10,
        max_lines=5,
        restock=True,
    )
    assert [(ln.quantity, ln.expiry_date) for ln in lines] == [(3, soon), (3, later)]


def test_validation_names_every_bad_field() -> None:
    with pytest.raises(ValidationError) as raised:
        check_lines(
            [LineRequest("A", 0), LineRequest(" ", 1), LineRequest("C", 11), LineRequest("D", 1)],
            max_quantity=10,
            max_lines=5,
        )
    fields = [e["field"] for e in raised.value.extra["errors"]]
    assert fields == ["items[0].quantity", "items[1].sku", "items[2].quantity"]


def test_a_deliverys_costs_and_dates_must_agree() -> None:
    made, expiry = date(2026, 12, 9), date(2026, 12, 1)
    with pytest.raises(ValidationError) as raised:
        check_lines(
            [
                LineRequest("A", 1, 100),
                LineRequest("A", 1, 120),
                LineRequest("B", 1),
                LineRequest("C", 1, 100, expiry, made),
            ],
            max_quantity=10,
            max_lines=5,
            restock=True,
        )
    errors = [(e["field"], e["message"]) for e in raised.value.extra["errors"]]
    assert errors == [
        ("items[1].unit_cost", "differs from an earlier A line"),
        ("items[2].unit_cost", "must be above 0"),
        ("items[3].expiry_date", "is before mfd_date (2026-12-01 < 2026-12-09)"),
    ]


@given(st.lists(st.builds(LineRequest, st.text(max_size=5), st.integers(-5, 1200)), max_size=6))
def test_validation_accepts_only_lines_within_the_limits(lines: list[LineRequest]) -> None:
    try:
        checked = check_lines(lines, max_quantity=1000, max_lines=5)
    except ValidationError as exc:
        error: ValidationError | None = exc
    else:
        error = None
        assert 1 <= len(checked) <= 5
        assert all(ln.sku.strip() and 1 <= ln.quantity <= 1000 for ln in checked)
        assert sum(ln.quantity for ln in checked) == sum(ln.quantity for ln in lines)
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

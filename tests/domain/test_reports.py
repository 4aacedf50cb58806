"""The report arithmetic on a fixed history: days in the store's time zone, waste at the
cost of the lots it came from, and reorder suggestions from days of cover."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from autogrocery.domain.records import StockLevel
from autogrocery.domain.reports import (
    Moved,
    Suggestion,
    Waste,
    day_start,
    reorder,
    usage_by_day,
    waste_by_sku,
)

NEW_YORK = ZoneInfo("America/New_York")


def at(text: str, zone: ZoneInfo = NEW_YORK) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def level(sku: str, available: int, min_level: int) -> StockLevel:
    return StockLevel(
        sku=sku,
        name=sku,
        aisle="dairy",
        unit="each",
        on_hand=available,
        reserved=0,
        min_level=min_level,
        price=100,
        unit_cost=50,
    )


def test_usage_is_counted_on_the_store_s_day_not_utc() -> None:
    moves = [
        Moved("MILK", -2, at("2026-03-07T23:30"), 50),  # 04:30 UTC on the 8th
        Moved("MILK", -1, at("2026-03-08T00:10"), 50),
        Moved("MILK", -4, at("2026-03-08T23:59"), 50),  # the day clocks go forward
        Moved("EGGS", -6, at("2026-03-09T08:00"), 30),
    ]
    assert usage_by_day(moves, NEW_YORK) == {
        "MILK": {date(2026, 3, 7): 2, date(2026, 3, 8): 5},
        "EGGS": {date(2026, 3, 9): 6},
    }
    assert day_start(date(2026, 3, 8), NEW_YORK) == at("2026-03-08T00:00")
    assert (
        day_start(date(2026, 3, 9), NEW_YORK) - day_start(date(2026, 3, 8), NEW_YORK) == 23 * 3600
    )


def test_waste_is_valued_at_the_cost_of_each_lot() -> None:
    moves = [
        Moved("MILK", -3, 0.0, 125),
        Moved("MILK", -2, 0.0, 99),
        Moved("BREAD", -1, 0.0, 1),
    ]
    assert waste_by_sku(moves) == [Waste("BREAD", 1, 1), Waste("MILK", 5, 573)]
    assert waste_by_sku([]) == []


def test_reorder_suggests_what_runs_out_before_the_next_delivery() -> None:
    levels = [
        level("MILK", available=6, min_level=5),  # 2 a day: 3 days, lead time 4
        level("EGGS", available=3, min_level=5),  # below its min level, little used
        level("RICE", available=50, min_level=5),  # 1 a day: plenty
        level("SALT", available=10, min_level=2),  # never used
    ]
    used = {"MILK": 14, "EGGS": 1, "RICE": 7}

    assert reorder(levels, used, days=7, lead_time=4) == [
        Suggestion("MILK", 6, 5, 2.0, 3.0, 15),  # 5 + 2 a day for 8 days - 6
        Suggestion("EGGS", 3, 5, 0.14, 21.0, 4),  # 5 + ceil(8/7) - 3
    ]


def test_a_sku_with_no_usage_comes_after_those_that_run_out() -> None:
    levels = [
        level("SALT", available=1, min_level=5),  # below min level, never used
        level("MILK", available=0, min_level=5),  # used, and out
        level("EGGS", available=2, min_level=5),  # used: one day left
    ]
    suggested = reorder(levels, {"MILK": 7, "EGGS": 14}, days=7, lead_time=2)
    assert [s.sku for s in suggested] == ["MILK", "EGGS", "SALT"]
    assert suggested[-1].days_of_cover is None

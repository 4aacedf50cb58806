"""The at-risk walk and the suggested markdown's rule (domain/at_risk.py)."""

from __future__ import annotations

from datetime import date

from autogrocery.domain.at_risk import OnSale, lift, outlook, suggest

DAY1, DAY2 = date(2026, 11, 2), date(2026, 11, 3)


def test_lots_sell_first_expired_first_out_and_the_rest_is_left() -> None:
    lots = [OnSale("a", DAY1, 10, 2.0), OnSale("b", DAY2, 10, 5.0)]
    first, second = outlook(lots, rate=3.0)
    assert (first.sold, first.left, first.window) == (6, 4, 2.0)  # 6 in its 2 days
    assert (second.sold, second.left, second.window) == (9, 1, 3.0)  # from day 2 on
    nothing = outlook(lots, rate=0.0)
    assert [(seen.sold, seen.left) for seen in nothing] == [(0, 10), (0, 10)]


def test_a_lot_that_sells_out_hands_its_time_to_the_next() -> None:
    lots = [OnSale("a", DAY1, 3, 2.0), OnSale("b", DAY2, 10, 3.0)]
    _, second = outlook(lots, rate=3.0)  # a is gone after 1 day: b has 2
    assert (second.window, second.sold, second.left) == (2.0, 6, 4)
    marked = [OnSale("a", DAY1, 10, 2.0, lift=2.0)]
    assert outlook(marked, rate=3.0)[0].sold == 10  # 6 a day while marked down


def test_the_suggestion_stays_at_cost_unless_the_lot_would_be_written_off() -> None:
    (seen,) = outlook([OnSale("a", DAY1, 10, 2.0)], rate=4.0)  # 8 of 10: 1.25 times
    hint = suggest(seen, 4.0, price=200, unit_cost=100, elasticity=2.0, floor=0.5)
    assert (hint.price, hint.left, hint.below_cost) == (178, 0, False)  # 200 x 1.25**-0.5
    (slow,) = outlook([OnSale("a", DAY1, 100, 2.0)], rate=1.0)  # 50 times as fast
    deep = suggest(slow, 1.0, price=200, unit_cost=100, elasticity=2.0, floor=0.5)
    assert (deep.price, deep.below_cost) == (50, True)  # 28 needed; the floor is 50
    assert deep.left == 68  # 2 days x 1 a day x (50 / 200) ** -2 = 32 sold
    none = suggest(slow, 1.0, price=200, unit_cost=100, elasticity=2.0, floor=0.0)
    assert none.price == 28
    idle = suggest(outlook([OnSale("a", DAY1, 5, 2.0)], 0.0)[0], 0.0, 200, 80, 2.0, 0.0)
    assert idle.price == 1  # no sales to go by, no floor: a cent


def test_a_markdown_lifts_sales_only_below_the_price() -> None:
    assert lift(100, 200, 2.0) == 4.0
    assert lift(200, 200, 2.0) == lift(250, 200, 2.0) == 1.0

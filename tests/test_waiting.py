"""The one wait helper: it returns what the check found, and a wait that runs out says
what it waited for, for how long, and what it last saw."""

from __future__ import annotations

import itertools

import pytest

from tests.waiting import eventually, until

pytestmark = pytest.mark.timeout(10)


def test_until_returns_the_first_truthy_answer() -> None:
    answers = itertools.chain([0, None, ""], itertools.repeat("here"))
    assert until(lambda: next(answers), within=5, every=0) == "here"


def test_until_that_runs_out_names_what_it_waited_for() -> None:
    with pytest.raises(AssertionError) as failed:
        until(lambda: [], within=0.05, what="the robots to join")
    assert str(failed.value) == "waited 0.05s for the robots to join; last saw []"


def test_without_a_name_the_check_names_itself() -> None:
    def robots_joined() -> bool:
        """Every aisle has a robot."""
        return False

    with pytest.raises(AssertionError, match=r"waited 0.05s for Every aisle has a robot;"):
        until(robots_joined, within=0.05)
    with pytest.raises(AssertionError, match=r"for lambda: 1 > 2, within=0.05\)"):
        until(lambda: 1 > 2, within=0.05)


async def test_eventually_awaits_a_coroutine_check_and_pauses_as_told() -> None:
    looks: list[int] = []
    pauses: list[float] = []

    async def third_time() -> int | None:
        looks.append(1)
        return len(looks) if len(looks) == 3 else None

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    assert await eventually(third_time, within=5, every=0.3, pause=pause) == 3
    assert pauses == [0.3, 0.3]
    with pytest.raises(AssertionError, match=r"^waited 0.05s for nothing; last saw None$"):
        await eventually(lambda: None, within=0.05, what="nothing")

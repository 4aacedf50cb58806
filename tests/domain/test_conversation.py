"""Conversations: a question waits a few minutes for its answer (on an injected clock),
belongs to its own key, and a crowd of abandoned ones cannot grow without bound."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autogrocery.domain.catalog import load_catalog
from autogrocery.domain.command_draft import Ask, Status
from autogrocery.domain.models import MovementType, Product
from autogrocery.domain.open_conversations import Conversations
from tests.domain.test_plainwords_table import CATALOG, Level


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def products() -> list[Product]:
    return load_catalog(CATALOG)


@pytest.fixture
def stock(products: list[Product]) -> dict[str, Level]:
    return {p.sku: Level(p.stock) for p in products}


def test_an_answer_after_the_question_expired_records_nothing(
    products: list[Product], stock: dict[str, Level]
) -> None:
    clock = Clock()
    talk = Conversations(ttl=120.0, clock=clock)
    asked = talk.say("k", "threw away 2 milk", products, stock, "dana")
    assert asked.ask == Ask.WHICH
    assert talk.deadline("k") == 1120.0
    clock.now += 119.0
    again = talk.say("k", "9", products, stock, "dana")  # not an answer: asked again
    assert again.ask == Ask.WHICH
    assert talk.deadline("k") == 1239.0  # each question gets the full time
    clock.now += 120.0
    assert talk.deadline("k") is None
    late = talk.say("k", "1", products, stock, "dana")
    assert late.status == Status.FAILED
    assert late.movement is None
    assert "expire after 2 min" in late.text
    assert len(talk) == 0


def test_an_answer_in_time_records_the_movement(
    products: list[Product], stock: dict[str, Level]
) -> None:
    clock = Clock()
    talk = Conversations(ttl=120.0, clock=clock)
    talk.say("k", "threw away 2 milk", products, stock, "dana")
    clock.now += 119.9
    assert talk.say("k", "whole", products, stock, "dana").ask == Ask.CONFIRM
    clock.now += 119.9
    done = talk.say("k", "yes", products, stock, "dana")
    assert done.movement is not None
    assert (done.movement.sku, done.movement.type, done.movement.delta) == (
        "MILK-3",
        MovementType.WASTE,
        -2,
    )


def test_conversations_are_kept_apart_by_key(
    products: list[Product], stock: dict[str, Level]
) -> None:
    talk = Conversations()
    talk.say(("dana", "c1"), "threw away 2 milk", products, stock, "dana")
    talk.say(("omer", "c1"), "took 3 small cola", products, stock, "omer")
    # Omer's "1" answers his own question (boxes), not Dana's (which milk)
    assert talk.say(("omer", "c1"), "1", products, stock, "omer").ask == Ask.CONFIRM
    omer = talk.say(("omer", "c1"), "yes", products, stock, "omer")
    assert omer.movement is not None
    assert (omer.movement.sku, omer.movement.delta, omer.movement.user) == ("COLA-S", -72, "omer")
    assert talk.say(("dana", "c1"), "1", products, stock, "dana").ask == Ask.CONFIRM
    dana = talk.say(("dana", "c1"), "yes", products, stock, "dana")
    assert dana.movement is not None
    assert (dana.movement.sku, dana.movement.user) == ("MILK-3", "dana")


def test_the_oldest_open_conversations_go_first_beyond_capacity(
    products: list[Product], stock: dict[str, Level]
) -> None:
    talk = Conversations(capacity=3)
    for n in range(5):
        talk.say(n, "took 3 cola", products, stock, "dana")
    assert len(talk) == 3
    assert talk.deadline(0) is None
    assert talk.deadline(1) is None
    assert talk.say(0, "1", products, stock, "dana").status == Status.FAILED
    assert talk.say(4, "1", products, stock, "dana").ask == Ask.UNIT


def test_a_yes_takes_what_was_offered_and_stock_that_moved_is_asked_about_again(
    products: list[Product], stock: dict[str, Level]
) -> None:
    """A yes to "only 2 on hand; set to 0?" records those 2; if the stock moved before
    the yes, the yes records nothing and the question is asked on what there is now."""
    talk = Conversations()
    assert talk.say("k", "took 5 whole milk", products, stock, "d").ask == Ask.SHORT
    stock["MILK-3"] = Level(1)  # one taken meanwhile
    again = talk.say("k", "yes", products, stock, "d")
    assert (again.ask, again.movement) == (Ask.SHORT, None)
    assert "Only 1 " in again.text
    done = talk.say("k", "yes", products, stock, "d")
    assert done.movement is not None
    assert done.movement.delta == -1

    assert talk.say("k", "took 25 whole milk", products, stock, "d").ask == Ask.SHORT
    stock["MILK-3"] = Level(120)  # a delivery meanwhile: the 25 asked for are there now
    grown = talk.say("k", "yes", products, stock, "d")
    assert (grown.ask, grown.movement) == (Ask.CONFIRM, None)
    assert grown.proposal is not None
    assert grown.proposal.delta == -25  # what was asked for, never all there is


def test_nothing_is_recorded_without_a_yes_and_the_yes_is_checked_on_the_levels_then(
    products: list[Product], stock: dict[str, Level]
) -> None:
    talk = Conversations()
    proposed = talk.say("k", "took 5 whole milk", products, {"MILK-3": Level(9)}, "d")
    assert (proposed.ask, proposed.movement) == (Ask.CONFIRM, None)
    assert proposed.text == "Take 5 l of Whole milk: on hand 9 → 4. Record it? (yes or no)"
    # the stock changed before the yes: the yes is asked about again, never recorded blind
    short = talk.say("k", "yes", products, {"MILK-3": Level(3)}, "d")
    assert (short.ask, short.movement) == (Ask.SHORT, None)
    done = talk.say("k", "yes", products, {"MILK-3": Level(3)}, "d")  # "set to 0?" is a yes
    assert done.movement is not None
    assert done.movement.delta == -3


def test_a_conversation_left_at_its_confirmation_records_nothing(
    products: list[Product], stock: dict[str, Level]
) -> None:
    clock = Clock()
    talk = Conversations(ttl=120.0, clock=clock)
    assert talk.say("k", "counted 40 eggs", products, stock, "d").ask == Ask.CONFIRM
    clock.now += 120.0
    late = talk.say("k", "yes", products, stock, "d")
    assert (late.status, late.movement) == (Status.FAILED, None)


@settings(max_examples=300, deadline=None)
@given(first=st.text(max_size=60), second=st.text(max_size=60))
def test_any_text_gets_a_reply_and_never_an_exception(first: str, second: str) -> None:
    products = load_catalog(CATALOG)
    stock = {p.sku: Level(p.stock) for p in products}
    talk = Conversations()
    for text in (first, second, "took 3 cola", first, "2", second):
        reply = talk.say("k", text, products, stock, "dana")
        assert reply.text
        if reply.movement is not None:
            assert reply.movement.delta != 0
            assert reply.movement.sku in stock


@pytest.mark.parametrize("text", ["took ² cola", "took ٣ cola", "took 3½ cola", "took 1e9 cola"])
def test_odd_digits(text: str) -> None:
    products = load_catalog(CATALOG)
    stock = {p.sku: Level(p.stock) for p in products}
    assert Conversations().say("k", text, products, stock, "dana").text

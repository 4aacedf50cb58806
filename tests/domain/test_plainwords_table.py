"""Stock commands in plain words, English and Hebrew: each row is one conversation, a
command and the answers to what it asks back, and what each step must come to: the
question asked (and the products offered), or the movement recorded, or an end with
nothing recorded. Every clarification branch is in the table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from autogrocery.domain.catalog import load_catalog
from autogrocery.domain.command_draft import Ask, Reply, Status
from autogrocery.domain.models import MovementType, Product
from autogrocery.domain.open_conversations import Conversations

CATALOG = Path(__file__).parent.parent / "data" / "catalog_words.toml"
OUT, WASTE, COUNT, IN = MovementType.OUT, MovementType.WASTE, MovementType.COUNT, MovementType.IN


@dataclass(frozen=True)
class Level:
    on_hand: int
    reserved: int = 0
    expired: int = 0


@dataclass(frozen=True)
class Moves:
    """The step records `delta` of `sku` as `type`."""

    type: MovementType
    sku: str
    delta: int


@dataclass(frozen=True)
class Proposes:
    """The step asks for a yes to record `delta` of `sku` as `type`, recording nothing yet."""

    type: MovementType
    sku: str
    delta: int


@dataclass(frozen=True)
class Asks:
    """The step asks `ask`, offering `choices` (SKUs, in order) where it offers any."""

    ask: Ask
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ends:
    """The conversation ends with nothing recorded."""

    status: Status
    says: str = ""  # a piece of the reply's text


Expect = Moves | Proposes | Asks | Ends
MILKS = ("MILK-3", "MILK-1")  # "Whole milk" first: it covers more of its name
COLAS = ("COLA-L", "COLA-S")

TABLE: list[tuple[str, list[tuple[str, Expect]]]] = [
    # --- English: straight through ----------------------------------------------------
    (
        "three cans named by their unit",
        [("took 3 cans of cola", Proposes(OUT, "COLA-S", -3)), ("yes", Moves(OUT, "COLA-S", -3))],
    ),
    (
        "a delivery in boxes",
        [
            ("got 5 boxes of cola cans", Proposes(IN, "COLA-S", 120)),
            ("ok", Moves(IN, "COLA-S", 120)),
        ],
    ),
    (
        "a count sets on hand",
        [("counted 40 eggs", Proposes(COUNT, "EGGS", 10)), ("y", Moves(COUNT, "EGGS", 10))],
    ),
    (
        "a count below on hand",
        [("we have 25 eggs", Proposes(COUNT, "EGGS", -5)), ("yes", Moves(COUNT, "EGGS", -5))],
    ),
    (
        "count of zero",
        [
            ("counted 0 free range eggs", Proposes(COUNT, "EGGS", -30)),
            ("sure", Moves(COUNT, "EGGS", -30)),
        ],
    ),
    (
        "typo'd plural still matches",
        [
            ("used 2 kg tomatos", Proposes(OUT, "TOM", -2)),
            ("yes", Moves(OUT, "TOM", -2)),
        ],
    ),
    (
        "accents do not matter",
        [
            ("threw out 1 creme fraiche", Proposes(WASTE, "CREME", -1)),
            ("right", Moves(WASTE, "CREME", -1)),
        ],
    ),
    (
        "word order does not matter",
        [
            ("threw away 1 fraiche creme", Proposes(WASTE, "CREME", -1)),
            ("yes", Moves(WASTE, "CREME", -1)),
        ],
    ),
    (
        "a box of, in words",
        [("received a box of onions", Proposes(IN, "ONION", 10)), ("yes", Moves(IN, "ONION", 10))],
    ),
    (
        "kilos are single units",
        [("used 2 kg onions", Proposes(OUT, "ONION", -2)), ("confirm", Moves(OUT, "ONION", -2))],
    ),
    (
        "number in words",
        [("took two pita", Proposes(OUT, "PITA", -2)), ("yes", Moves(OUT, "PITA", -2))],
    ),
    (
        "a is one",
        [("took a chocolate cake", Proposes(OUT, "CAKE", -1)), ("ok", Moves(OUT, "CAKE", -1))],
    ),
    (
        "the unit names the product",
        [("took 2 loaves", Proposes(OUT, "BREAD", -2)), ("yes", Moves(OUT, "BREAD", -2))],
    ),
    (
        "a SKU works too",
        [("wasted 1 CAKE", Proposes(WASTE, "CAKE", -1)), ("yeah", Moves(WASTE, "CAKE", -1))],
    ),
    (
        "case and fillers",
        [
            ("I TOOK 3 KILOS of the Vine Tomatoes please", Proposes(OUT, "TOM", -3)),
            ("yes", Moves(OUT, "TOM", -3)),
        ],
    ),
    # --- English: each question -------------------------------------------------------
    (
        "boxes or units: units",
        [
            ("took 3 small cola", Asks(Ask.UNIT)),
            ("units", Proposes(OUT, "COLA-S", -3)),
            ("yes", Moves(OUT, "COLA-S", -3)),
        ],
    ),
    (
        "boxes or units: boxes, by number",
        [
            ("took 1 small cola", Asks(Ask.UNIT)),
            ("1", Proposes(OUT, "COLA-S", -24)),
            ("ok", Moves(OUT, "COLA-S", -24)),
        ],
    ),
    (
        "several match: by name",
        [
            ("threw away 2 milk", Asks(Ask.WHICH, MILKS)),
            ("whole", Proposes(WASTE, "MILK-3", -2)),
            ("y", Moves(WASTE, "MILK-3", -2)),
        ],
    ),
    (
        "several match: by number",
        [
            ("threw away 2 milk", Asks(Ask.WHICH, MILKS)),
            ("2", Proposes(WASTE, "MILK-1", -2)),
            ("yes", Moves(WASTE, "MILK-1", -2)),
        ],
    ),
    (
        "several match: a number out of range is asked again",
        [
            ("took 2 cola", Asks(Ask.WHICH, COLAS)),
            ("9", Asks(Ask.WHICH, COLAS)),
            ("large", Asks(Ask.UNIT)),
            ("bottles", Proposes(OUT, "COLA-L", -2)),
            ("sure", Moves(OUT, "COLA-L", -2)),
        ],
    ),
    (
        "no match: did you mean, yes",
        [
            ("took 2 choclate cake", Asks(Ask.DID_YOU_MEAN, ("CAKE",))),
            ("yes", Proposes(OUT, "CAKE", -2)),
            ("yes", Moves(OUT, "CAKE", -2)),
        ],
    ),
    (
        "no match: did you mean, by number",
        [
            ("took 2 colla", Asks(Ask.DID_YOU_MEAN, COLAS)),
            ("2", Asks(Ask.UNIT)),
            ("cans", Proposes(OUT, "COLA-S", -2)),
            ("right", Moves(OUT, "COLA-S", -2)),
        ],
    ),
    ("no match at all", [("took 2 xyzzy", Ends(Status.FAILED, 'no product like "xyzzy"'))]),
    (
        "not enough: set to 0",
        [
            ("took 5 whole milk", Asks(Ask.SHORT)),
            ("yes", Moves(OUT, "MILK-3", -2)),
        ],
    ),
    (
        "not enough: a smaller number",
        [
            ("threw away 5 whole milk", Asks(Ask.SHORT)),
            ("1", Proposes(WASTE, "MILK-3", -1)),
            ("yes", Moves(WASTE, "MILK-3", -1)),
        ],
    ),
    (
        "not enough: no",
        [("took 5 whole milk", Asks(Ask.SHORT)), ("no", Ends(Status.CANCELLED))],
    ),
    (
        "not enough with some held for orders",
        [("took 20 semi-skimmed milk", Asks(Ask.SHORT)), ("ok", Moves(OUT, "MILK-1", -15))],
    ),
    (
        "which action",
        [
            ("3 large cola", Asks(Ask.ACTION)),
            ("got", Asks(Ask.UNIT)),
            ("boxes", Proposes(IN, "COLA-L", 18)),
            ("yes", Moves(IN, "COLA-L", 18)),
        ],
    ),
    (
        "how many",
        [
            ("took some pita", Asks(Ask.QUANTITY)),
            ("4", Proposes(OUT, "PITA", -4)),
            ("confirm", Moves(OUT, "PITA", -4)),
        ],
    ),
    (
        "how many: a whole number",
        [
            ("took 1.5 tomatoes", Asks(Ask.QUANTITY)),
            ("2", Proposes(OUT, "TOM", -2)),
            ("yes", Moves(OUT, "TOM", -2)),
        ],
    ),
    (
        "not sold in boxes",
        [
            ("got 2 boxes of whole milk", Asks(Ask.QUANTITY)),
            ("12", Proposes(IN, "MILK-3", 12)),
            ("ok", Moves(IN, "MILK-3", 12)),
        ],
    ),
    (
        "which product",
        [
            ("got 3 kg", Asks(Ask.PRODUCT)),
            ("tomatoes", Proposes(IN, "TOM", 3)),
            ("yes", Moves(IN, "TOM", 3)),
        ],
    ),
    (
        "an answer it does not get is asked again",
        [
            ("got 3 onions", Asks(Ask.UNIT)),
            ("purple", Asks(Ask.UNIT)),
            ("single", Proposes(IN, "ONION", 3)),
            ("yeah", Moves(IN, "ONION", 3)),
        ],
    ),
    (
        "a new command instead of an answer",
        [
            ("threw away 2 milk", Asks(Ask.WHICH, MILKS)),
            ("took 2 kg tomatoes", Proposes(OUT, "TOM", -2)),
            ("yes", Moves(OUT, "TOM", -2)),
        ],
    ),
    ("cancel", [("took 3 cola", Asks(Ask.WHICH, COLAS)), ("never mind", Ends(Status.CANCELLED))]),
    (
        "confirm: no",
        [("took 2 loaves", Proposes(OUT, "BREAD", -2)), ("no", Ends(Status.CANCELLED, "nothing"))],
    ),
    (
        "confirm: an answer it does not get is asked again",
        [
            ("took 2 loaves", Proposes(OUT, "BREAD", -2)),
            ("maybe later", Proposes(OUT, "BREAD", -2)),
            ("yes", Moves(OUT, "BREAD", -2)),
        ],
    ),
    (
        "confirm: a new command instead of a yes",
        [
            ("took 2 loaves", Proposes(OUT, "BREAD", -2)),
            ("threw away 1 cake", Proposes(WASTE, "CAKE", -1)),
            ("yes", Moves(WASTE, "CAKE", -1)),
        ],
    ),
    ("not a command", [("hello there", Ends(Status.FAILED, "did not understand"))]),
    ("an answer with no question", [("yes", Ends(Status.FAILED, "no open question"))]),
    ("nothing to take", [("took 0 cola cans", Ends(Status.FAILED, "quantity is 0"))]),
    (
        "expired stock is thrown away, never taken out",
        [
            ("took 5 creme fraiche", Asks(Ask.SHORT)),
            ("yes", Moves(OUT, "CREME", -3)),
            ("threw away 9 creme fraiche", Proposes(WASTE, "CREME", -9)),
            ("yes", Moves(WASTE, "CREME", -9)),
        ],
    ),
    ("too many", [("got 200000 loaves", Ends(Status.FAILED, "more than one command"))]),
    (
        "by the kg, no unit said: yes",
        [
            ("took 10 tomatoes", Asks(Ask.MEASURE)),
            ("yes", Proposes(OUT, "TOM", -10)),
            ("yes", Moves(OUT, "TOM", -10)),
        ],
    ),
    (
        "by the kg, pieces said: how many kg",
        [
            ("took 10 pieces of tomatoes", Asks(Ask.MEASURE)),
            ("2", Proposes(OUT, "TOM", -2)),
            ("ok", Moves(OUT, "TOM", -2)),
        ],
    ),
    (
        "by the kg: an answer it does not get is asked again",
        [
            ("threw away 4 tomatoes", Asks(Ask.MEASURE)),
            ("2 boxes", Asks(Ask.MEASURE)),
            ("1 kg", Proposes(WASTE, "TOM", -1)),
            ("yes", Moves(WASTE, "TOM", -1)),
        ],
    ),
    (
        "count below what orders hold",
        [("counted 3 semi-skimmed milk", Ends(Status.FAILED, "held"))],
    ),
    ("count that changes nothing", [("counted 30 eggs", Ends(Status.DONE, "nothing to record"))]),
    # --- Hebrew -------------------------------------------------------------------------
    (
        "the issue's example",
        [
            ("לקחתי 3 קולה קטן", Asks(Ask.UNIT)),
            ("יחידות", Proposes(OUT, "COLA-S", -3)),
            ("כן", Moves(OUT, "COLA-S", -3)),
        ],
    ),
    (
        "feminine adjective, boxes",
        [
            ("לקחתי 3 קולה קטנה", Asks(Ask.UNIT)),
            ("ארגזים", Proposes(OUT, "COLA-S", -72)),
            ("אישור", Moves(OUT, "COLA-S", -72)),
        ],
    ),
    (
        "several milks, by name",
        [
            ("זרקתי 2 חלב", Asks(Ask.WHICH, ("MILK-1", "MILK-3"))),
            ("3%", Proposes(WASTE, "MILK-3", -2)),
            ("כן", Moves(WASTE, "MILK-3", -2)),
        ],
    ),
    (
        "several milks, by number",
        [
            ("זרקנו 2 חלב", Asks(Ask.WHICH, ("MILK-1", "MILK-3"))),
            ("1", Proposes(WASTE, "MILK-1", -2)),
            ("בסדר", Moves(WASTE, "MILK-1", -2)),
        ],
    ),
    (
        "counted eggs",
        [("ספרתי 40 ביצים", Proposes(COUNT, "EGGS", 10)), ("כן", Moves(COUNT, "EGGS", 10))],
    ),
    (
        "a delivery in boxes",
        [
            ("קיבלנו 5 ארגזים קולה פחיות", Proposes(IN, "COLA-S", 120)),
            ("מאשר", Moves(IN, "COLA-S", 120)),
        ],
    ),
    (
        "a box, no number",
        [("קיבלתי ארגז בצל", Proposes(IN, "ONION", 10)), ("כן", Moves(IN, "ONION", 10))],
    ),
    (
        "one word of the name",
        [("לקחתי 3 שוקולד", Proposes(OUT, "CAKE", -3)), ("סבבה", Moves(OUT, "CAKE", -3))],
    ),
    (
        "number in words",
        [
            ("לקחתי חמש עגבניות", Asks(Ask.MEASURE)),
            ("כן", Proposes(OUT, "TOM", -5)),
            ("כן", Moves(OUT, "TOM", -5)),
        ],
    ),
    (
        "prefix letters and vowel points",
        [
            ("לקחתי 2 קילו מהעַגְבָניות", Proposes(OUT, "TOM", -2)),
            ("נכון", Moves(OUT, "TOM", -2)),
        ],
    ),
    ("cancel", [("זרקתי 3 קולה", Asks(Ask.WHICH, COLAS)), ("בטל", Ends(Status.CANCELLED))]),
    (
        "not enough, yes",
        [("לקחתי 5 חלב 3%", Asks(Ask.SHORT)), ("כן", Moves(OUT, "MILK-3", -2))],
    ),
    (
        "a typo: did you mean",
        [
            ("לקחתי 2 קולח", Asks(Ask.DID_YOU_MEAN, COLAS)),
            ("1", Asks(Ask.UNIT)),
            ("בקבוקים", Proposes(OUT, "COLA-L", -2)),
            ("כן", Moves(OUT, "COLA-L", -2)),
        ],
    ),
    (
        "which action",
        [
            ("3 קולה גדולה", Asks(Ask.ACTION)),
            ("לקחתי", Asks(Ask.UNIT)),
            ("יחידות", Proposes(OUT, "COLA-L", -3)),
            ("אישור", Moves(OUT, "COLA-L", -3)),
        ],
    ),
    (
        "how many",
        [
            ("לקחתי ביצים", Asks(Ask.QUANTITY)),
            ("שלוש", Proposes(OUT, "EGGS", -3)),
            ("כן", Moves(OUT, "EGGS", -3)),
        ],
    ),
    (
        "confirm: no",
        [("ספרתי 40 ביצים", Proposes(COUNT, "EGGS", 10)), ("לא", Ends(Status.CANCELLED))],
    ),
    ("no match at all", [("זרקתי 2 במבה", Ends(Status.FAILED, "לא מצאתי"))]),
    ("an answer with no question", [("כן", Ends(Status.FAILED, "אין שאלה פתוחה"))]),
]


@pytest.fixture(scope="module")
def products() -> list[Product]:
    return load_catalog(CATALOG)


def stock_of(products: list[Product]) -> dict[str, Level]:
    levels = {p.sku: Level(p.stock) for p in products}
    levels["MILK-1"] = Level(20, reserved=5)  # 15 free: an open order holds 5
    levels["CREME"] = Level(12, expired=9)  # 3 good: 9 are past their date
    return levels


def check(reply: Reply, expect: Expect, text: str, user: str) -> None:
    said = f"{text!r} → {reply.status} {reply.ask}: {reply.text}"
    if isinstance(expect, Moves):
        assert reply.status == Status.DONE, said
        assert reply.movement is not None, said
        moved = reply.movement
        assert (moved.type, moved.sku, moved.delta) == (expect.type, expect.sku, expect.delta), said
        assert moved.user == user
    elif isinstance(expect, Proposes):
        assert (reply.status, reply.ask) == (Status.QUESTION, Ask.CONFIRM), said
        assert reply.movement is None, said
        offered = reply.proposal
        assert offered is not None, said
        assert (offered.type, offered.sku, offered.delta) == (
            expect.type,
            expect.sku,
            expect.delta,
        ), said
    elif isinstance(expect, Asks):
        assert (reply.status, reply.ask) == (Status.QUESTION, expect.ask), said
        assert reply.movement is None, said
        if expect.choices:
            assert tuple(p.sku for p in reply.choices) == expect.choices, said
    else:
        assert reply.status == expect.status, said
        assert reply.movement is None, said
        assert expect.says in reply.text, said


def test_the_table_covers_forty_commands_both_languages_and_every_question() -> None:
    assert len(TABLE) >= 40  # commands, each with the answers it takes
    hebrew = [steps for _, steps in TABLE if any("\u0590" <= c <= "\u05ff" for c in steps[0][0])]
    assert len(hebrew) >= 15
    asked = {e.ask for _, steps in TABLE for _, e in steps if isinstance(e, Asks)}
    assert asked | {Ask.CONFIRM} == set(Ask)  # CONFIRM is `Proposes`
    proposed = [e for _, steps in TABLE for _, e in steps if isinstance(e, Proposes)]
    assert len(proposed) >= 40
    actions = {e.type for _, steps in TABLE for _, e in steps if isinstance(e, Moves)}
    assert actions == {OUT, WASTE, COUNT, IN}


@pytest.mark.parametrize(
    ("case", "steps"), TABLE, ids=[f"{i:02d} {c}" for i, (c, _) in enumerate(TABLE)]
)
def test_plain_words(case: str, steps: list[tuple[str, Expect]], products: list[Product]) -> None:
    talk = Conversations()
    stock = stock_of(products)
    for text, expect in steps:
        reply = talk.say("dana:c1", text, products, stock, "dana")
        check(reply, expect, text, "dana")
    # every row ends its conversation: nothing is left waiting for an answer
    assert len(talk) == 0, case


def test_the_movement_notes_the_command_as_typed_and_replies_in_its_language(
    products: list[Product],
) -> None:
    talk = Conversations()
    stock = stock_of(products)
    asked = talk.say("k", "זרקתי 2 חלב", products, stock, "yosef")
    assert "איזה מהם" in asked.text
    assert "חלב 3%" in asked.text  # the Hebrew names, with how many each has
    confirm = talk.say("k", "3%", products, stock, "yosef")
    assert confirm.text == "לרשום 2 ליטר חלב 3% כפחת? במלאי: עכשיו 2, אחרי 0. (כן או לא)"
    done = talk.say("k", "כן", products, stock, "yosef")
    assert done.movement is not None
    assert done.movement.note == "זרקתי 2 חלב"
    assert done.movement.user == "yosef"
    assert "היה 2, עכשיו 0" in done.text
    english = talk.say("k", "took 3 small cola", products, stock, "yosef")
    assert english.text == "Cola 330 ml can comes in boxes of 24: 3 boxes (72 cans) or 3 cans?"

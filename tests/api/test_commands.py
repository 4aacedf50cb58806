"""POST /api/ops/commands over real HTTP: a command in plain words, the question it asks
back and its answer in the same conversation, and the one movement it records (the
operator its user, the command its note) in the ledger the store keeps."""

from __future__ import annotations

from typing import Any

import pytest

from autogrocery.api.state import STATE
from tests.api.conftest import Api

PATH = "/api/ops/commands"


async def say(
    api: Api, who: dict[str, str], text: str, conversation: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if conversation is not None:
        body["conversation_id"] = conversation
    status, reply, _ = await api.call("POST", PATH, who, json=body)
    assert status == 200, reply
    return dict(reply)


async def on_hand(api: Api, sku: str) -> int:
    return next(level.on_hand for level in await api.system.levels() if level.sku == sku)


async def ledger(api: Api, sku: str) -> list[tuple[str, int, str, str]]:
    found, _ = await api.system.movements(sku=sku, limit=1000)
    return [(m.type, m.delta, m.ref, m.user) for m in found]


async def test_a_question_its_answer_and_the_movement_in_the_ledger(api: Api) -> None:
    operator = await api.operator()
    before = await on_hand(api, "DAI-002")
    asked = await say(api, operator, "threw away 2 milk")
    assert asked["status"] == "question"
    assert asked["question"] == "which"
    assert asked["movement"] is None
    assert asked["product"] is None
    assert asked["expires_at"] is not None
    assert asked["conversation_id"].startswith("cnv_")
    assert [(c["number"], c["sku"], c["name"]) for c in asked["choices"]] == [
        (1, "DAI-002", "Whole milk"),
        (2, "DAI-001", "Semi-skimmed milk"),
    ]
    assert asked["choices"][0]["on_hand"] == before
    assert await ledger(api, "DAI-002") == [("COUNT", before, "opening-stock", "system")]

    proposed = await say(api, operator, "whole", asked["conversation_id"])
    assert (proposed["status"], proposed["question"]) == ("question", "confirm")
    assert proposed["text"] == (
        f"Write off 2 l of Whole milk as waste: on hand {before} → {before - 2}. "
        "Record it? (yes or no)"
    )
    assert proposed["movement"] is None
    assert proposed["proposal"] == {
        "sku": "DAI-002",
        "type": "WASTE",
        "delta": -2,
        "note": "threw away 2 milk",
    }
    assert await on_hand(api, "DAI-002") == before  # nothing is recorded before the yes

    done = await say(api, operator, "yes", asked["conversation_id"])
    assert done["status"] == "done"
    assert done["proposal"] is None
    assert done["question"] is None
    assert done["expires_at"] is None
    assert done["movement"] == {
        "sku": "DAI-002",
        "type": "WASTE",
        "delta": -2,
        "note": "threw away 2 milk",
    }
    assert done["product"]["on_hand"] == before - 2
    assert await on_hand(api, "DAI-002") == before - 2
    assert (await ledger(api, "DAI-002"))[0] == ("WASTE", -2, "threw away 2 milk", "admin")
    # the conversation is over: its id answers nothing any more
    late = await say(api, operator, "whole", asked["conversation_id"])
    assert late["status"] == "failed"
    assert await on_hand(api, "DAI-002") == before - 2


async def test_goods_received_and_taken_are_in_and_out_movements_and_the_books_balance(
    api: Api,
) -> None:
    operator = await api.operator()
    before = await on_hand(api, "PAR-011")
    proposed = await say(api, operator, "got 5 boxes of cola cans")
    assert proposed["question"] == "confirm"
    got = await say(api, operator, "ok", proposed["conversation_id"])
    assert got["movement"] == {
        "sku": "PAR-011",
        "type": "IN",
        "delta": 120,
        "note": "got 5 boxes of cola cans",
    }
    asked = await say(api, operator, "took 3 small cola", "shift-1")
    assert (asked["conversation_id"], asked["question"]) == ("shift-1", "unit")
    assert (await say(api, operator, "units", "shift-1"))["question"] == "confirm"
    took = await say(api, operator, "yes", "shift-1")
    assert (took["movement"]["type"], took["movement"]["delta"]) == ("OUT", -3)
    assert took["product"]["on_hand"] == before + 120 - 3
    assert [m[:2] for m in await ledger(api, "PAR-011")][:2] == [("OUT", -3), ("IN", 120)]
    status, check, _ = await api.call("GET", "/api/ops/reconcile", operator)
    assert status == 200
    assert check["ok"] is True


async def test_the_issues_hebrew_example(api: Api) -> None:
    operator = await api.operator()
    before = await on_hand(api, "PAR-011")
    asked = await say(api, operator, "לקחתי 3 קולה קטן")
    assert (asked["language"], asked["question"]) == ("he", "unit")
    assert "ארגזים של 24" in asked["text"]
    proposed = await say(api, operator, "יחידות", asked["conversation_id"])
    assert (proposed["question"], proposed["proposal"]["delta"]) == ("confirm", -3)
    assert "לרשום" in proposed["text"]
    assert await on_hand(api, "PAR-011") == before
    done = await say(api, operator, "כן", asked["conversation_id"])
    assert done["movement"]["delta"] == -3
    assert done["movement"]["note"] == "לקחתי 3 קולה קטן"
    assert "היה" in done["text"]
    assert await on_hand(api, "PAR-011") == before - 3


async def test_not_enough_on_hand_asks_before_taking_what_there_is(api: Api) -> None:
    operator, device = await api.operator(), await api.device()
    status, _, _ = await api.call(
        "POST", "/api/orders/preview", device, json={"items": [{"sku": "PRO-008", "quantity": 4}]}
    )
    assert status == 201
    have = await on_hand(api, "PRO-008")
    free = have - 4
    asked = await say(api, operator, f"threw away {have} avocados")
    assert asked["question"] == "short"
    assert f"Only {free} " in asked["text"]
    assert "4 held for orders" in asked["text"]
    done = await say(api, operator, "yes", asked["conversation_id"])
    assert done["movement"]["delta"] == -free
    assert done["product"]["on_hand"] == 4  # what the open order holds stays
    assert done["product"]["reserved"] == 4


async def test_a_no_at_the_confirmation_records_nothing(api: Api) -> None:
    operator = await api.operator()
    before = await api.snapshot()
    proposed = await say(api, operator, "counted 4 dozen eggs")
    assert proposed["question"] == "confirm"
    assert proposed["proposal"]["type"] == "COUNT"
    declined = await say(api, operator, "no", proposed["conversation_id"])
    assert (declined["status"], declined["movement"]) == ("cancelled", None)
    assert await api.snapshot() == before


async def test_an_expired_question_records_nothing(api: Api) -> None:
    operator = await api.operator()
    talk = api.client.server.app[STATE].conversations
    now = [500.0]
    talk.clock = lambda: now[0]
    asked = await say(api, operator, "took 3 cola")
    assert asked["question"] == "which"
    before = await api.snapshot()
    now[0] += talk.ttl
    late = await say(api, operator, "1", asked["conversation_id"])
    assert late["status"] == "failed"
    assert "no open question" in late["text"]
    assert await api.snapshot() == before


async def test_a_conversation_belongs_to_the_operator_who_started_it(api: Api) -> None:
    admin = await api.operator()
    status, _, _ = await api.call(
        "POST",
        "/api/ops/accounts",
        admin,
        json={"username": "night-shift", "password": "night-pass-1", "role": "operator"},
    )
    assert status == 201
    other = await api.bearer("night-shift", "night-pass-1")
    await say(api, admin, "threw away 2 milk", "c-1")
    before = await api.snapshot()
    theirs = await say(api, other, "1", "c-1")
    assert theirs["status"] == "failed"
    assert await api.snapshot() == before
    assert (await say(api, admin, "1", "c-1"))["question"] == "confirm"
    assert (await say(api, other, "yes", "c-1"))["status"] == "failed"  # not theirs to confirm
    assert await api.snapshot() == before
    mine = await say(api, admin, "yes", "c-1")
    assert (mine["status"], mine["movement"]["sku"]) == ("done", "DAI-002")
    moved, _ = await api.system.movements(sku="DAI-002", limit=1)
    assert moved[0].user == "admin"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x" * 301}, "text"),
        ({"text": "took 3 cola", "conversation_id": "has spaces"}, "conversation_id"),
        ({"text": "took 3 cola", "extra": 1}, "extra"),
        ({}, "text"),
    ],
)
async def test_bad_bodies_are_400_and_change_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    operator = await api.operator()
    before = await api.snapshot()
    status, problem, _ = await api.call("POST", PATH, operator, json=body)
    assert status == 400
    assert problem["errors"][0]["field"] == field
    assert await api.snapshot() == before


async def test_only_operators_may_say_commands(api: Api) -> None:
    device = await api.device()
    assert (await api.call("POST", PATH, device, json={"text": "took 3 cola"}))[0] == 403
    assert (await api.call("POST", PATH, None, json={"text": "took 3 cola"}))[0] == 401


async def test_a_count_of_pieces_is_not_taken_for_dozens_or_kilos(api: Api) -> None:
    """The shipped catalog stocks eggs by the dozen and onions by the kg."""
    operator = await api.operator()
    before = await api.snapshot()
    eggs = await say(api, operator, "counted 40 eggs")
    assert eggs["question"] == "measure"
    assert eggs["text"] == (
        "Free-range eggs is counted by the dozen: 40 dozen? (yes, or say how many dozen)"
    )
    counted = await say(api, operator, "3", eggs["conversation_id"])
    assert counted["proposal"]["sku"] == "DAI-006"
    assert "3 dozen" in counted["text"]
    onions = await say(api, operator, "took 10 onions")
    assert (onions["question"], "10 kg?" in onions["text"]) == ("measure", True)
    assert await api.snapshot() == before  # questions record nothing

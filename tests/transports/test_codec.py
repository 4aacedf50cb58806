"""The wire codec: orjson frames with a kind and a schema version."""

from __future__ import annotations

import orjson
import pytest

from autogrocery.domain.messages.fulfilment import RobotTask, TaskLine
from autogrocery.domain.messages.wire import WIRE_VERSION, WireError
from autogrocery.domain.models import TaskKind
from autogrocery.transports.codec import TO_ROBOT, TO_STORE, decode, encode, field, frame


def test_frames_round_trip_with_kind_and_version() -> None:
    data = frame("register", robot_id="bread-1", aisle="bread", host="h")
    assert orjson.loads(data) == {
        "kind": "register",
        "v": WIRE_VERSION,
        "robot_id": "bread-1",
        "aisle": "bread",
        "host": "h",
    }
    assert decode(data, TO_STORE)["robot_id"] == "bread-1"


def test_domain_wire_messages_encode_as_they_are() -> None:
    task = RobotTask("o.bread", "o", TaskKind.PICK, "bread", (TaskLine("BRD-001", 2),))
    wire = decode(encode(task.to_wire()), TO_ROBOT)
    assert RobotTask.from_wire(wire) == task
    assert decode(encode({"kind": "ack", "task_id": "t"}), TO_STORE)["v"] == WIRE_VERSION


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
        (b"{'kind': 'register'}", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"register"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'{"v": 1}', "no kind"),
        (b'{"kind": 7, "v": 1}', "no kind"),
        (b'{"kind": "launch", "v": 1}', "unknown kind"),
        (b'{"kind": "task", "v": 1}', "unknown kind"),  # a robot's kind sent to the store
        (b'{"kind": "register"}', "schema version"),
        (b'{"kind": "register", "v": 2}', "schema version"),
        (b'{"kind": "register", "v": "1"}', "schema version"),
        (b'{"kind": "register", "v": true}', "schema version"),
    ],
)
def test_decode_refuses_what_is_not_a_frame_of_an_expected_kind(data: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        decode(data, TO_STORE)


def test_encode_needs_a_kind() -> None:
    with pytest.raises(WireError):
        encode({"task_id": "t"})


def test_field_checks_types_and_bools_are_not_ints() -> None:
    message = {"kind": "subscribe", "from": 3, "flag": True, "name": "x"}
    assert field(message, "from", int) == 3
    assert field(message, "flag", bool) is True
    with pytest.raises(WireError, match="'flag'"):
        field(message, "flag", int)
    with pytest.raises(WireError, match="'missing'"):
        field(message, "missing", str)
    with pytest.raises(WireError, match="'name'"):
        field(message, "name", int)

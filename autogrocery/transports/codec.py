"""Wire frames: one orjson object per ZeroMQ frame, `{"kind": ..., "v": 1, ...fields}`.

`decode` accepts only the kinds a receiver expects; anything else (not JSON, not an
object, a missing or unknown kind, another schema version, a field of the wrong type)
raises `WireError`, which receivers count and drop.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

import orjson

from autogrocery.domain.messages.wire import WIRE_VERSION, WireError

# A decoded frame: its values are read through `field` (checked) or a record's
# `from_wire`, never trusted as they come.
Wire = dict[str, object]
T = TypeVar("T")

MAX_FRAME = 1 << 20  # bytes; larger inbound messages are refused by the socket itself

# robot channel: robot -> store and store -> robot
TO_STORE = frozenset({"register", "heartbeat", "ack", "report", "progress", "bye"})
TO_ROBOT = frozenset({"welcome", "heartbeat", "task", "ack", "withdraw", "reset", "refused"})
# What a robot and a store say they speak, in `register` and `welcome` (absent: 1).
# 2: task priorities, `progress` from robots, `withdraw` to robots.
ROBOT_PROTOCOL = 2
# metrics channel: analytics -> store and store -> analytics
TO_METRICS = frozenset({"subscribe", "heartbeat", "bye"})
TO_ANALYTICS = frozenset({"welcome", "heartbeat", "metric", "reset"})
KINDS = TO_STORE | TO_ROBOT | TO_METRICS | TO_ANALYTICS


def frame(kind: str, **fields: object) -> bytes:
    """Encode a message of `kind` with the current schema version."""
    return orjson.dumps({"kind": kind, "v": WIRE_VERSION, **fields})


def encode(message: Wire) -> bytes:
    """Encode a wire dict that already names its kind (e.g. `RobotTask.to_wire()`)."""
    if not isinstance(message.get("kind"), str):
        raise WireError("a wire message needs a kind")
    if "v" not in message:
        message = {**message, "v": WIRE_VERSION}
    return orjson.dumps(message)


def decode(data: bytes, kinds: Collection[str] = KINDS) -> Wire:
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise WireError(f"not JSON ({len(data)} bytes)") from None
    if not isinstance(message, dict):
        raise WireError(f"not a JSON object but {type(message).__name__}")
    kind = message.get("kind")
    if not isinstance(kind, str):
        raise WireError("no kind")
    if kind not in kinds:
        raise WireError(f"unknown kind {kind[:40]!r}")
    version = message.get("v")
    if version != WIRE_VERSION or isinstance(version, bool):
        raise WireError(f"{kind}: schema version {version!r}, expected {WIRE_VERSION}")
    return message


def field(message: Wire, key: str, typ: type[T]) -> T:
    """`message[key]` if it is a `typ` (bools are not ints here), else `WireError`."""
    value = message.get(key)
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is not bool):
        raise WireError(f"{message.get('kind')}: field {key!r} missing or of the wrong type")
    return value

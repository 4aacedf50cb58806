"""The wire: what every message that may cross hosts (robot tasks, task reports,
progress, metrics) shares. Each carries a `kind` and this schema version `v`, and a
message read off the wire that is not what its kind promises is a `WireError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar, overload

T = TypeVar("T")
U = TypeVar("U")

WIRE_VERSION = 1


class WireError(ValueError):
    """A wire message that is not what its kind promises."""


@overload
def require(data: Mapping[str, object], key: str, typ: type[T]) -> T: ...


@overload
def require(data: Mapping[str, object], key: str, typ: tuple[type[T], type[U]]) -> T | U: ...


def require(data: Mapping[str, object], key: str, typ: type | tuple[type, ...]) -> object:
    """`data[key]` if it is a `typ` (a bool is not an int); else a WireError."""
    value = data.get(key)
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is not bool):
        raise WireError(f"{data.get('kind')}: field {key!r} missing or not {typ}")
    return value

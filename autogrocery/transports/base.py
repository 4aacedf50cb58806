"""The transport interfaces. Messages are plain data (what orjson encodes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Wire = dict[str, Any]


class RobotHub(Protocol):
    """The store's side of the robot channel."""

    def start(self, on_report: Callable[[Wire], None]) -> None:
        """Begin delivering robot reports to `on_report` (called from any thread)."""

    def dispatch(self, task: Wire) -> None:
        """Give a task to one live robot of its aisle, or hold it until one is there."""

    def alive(self, aisle: str) -> bool: ...

    def robots(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class RobotEndpoint(Protocol):
    """A robot's side of the robot channel."""

    def report(self, report: Wire) -> None: ...


class MetricsChannel(Protocol):
    """Store → analytics. The store keeps metrics durably, so a lost one is replayed."""

    def publish(self, metric: Wire) -> None: ...

    def subscribe(self, on_metric: Callable[[Wire], None]) -> None: ...

    def close(self) -> None: ...

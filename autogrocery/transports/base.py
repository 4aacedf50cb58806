"""The transport interfaces. Tasks, reports and metrics pass as the domain's records;
a transport that crosses hosts encodes them (`codec`) and decodes them on arrival."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import RobotTask, TaskProgress, TaskReport
from autogrocery.domain.records import RobotSeen


class RobotHub(Protocol):
    """The store's side of the robot channel."""

    def start(self, on_reports: Callable[[list[TaskReport]], None]) -> None:
        """Begin delivering robot reports to `on_reports` (called from any thread, with
        the reports that arrived together)."""

    def dispatch(self, tasks: list[RobotTask]) -> None:
        """Give each task to one live robot of its aisle, or hold it until one is there."""

    def withdraw(self, task_ids: list[str]) -> None:
        """Take tasks back (their order was cancelled): robots drop those not begun."""

    def alive(self, aisle: str) -> bool: ...

    def served(self, aisle: str, within: float) -> bool:
        """A robot of `aisle` is online or was seen within the last `within` seconds."""

    def robots(self) -> list[RobotSeen]: ...

    def overdue(self, max_wait: float) -> list[RobotTask]:
        """Take back the tasks that waited more than `max_wait` seconds for a robot."""

    def stats(self) -> dict[str, int]:
        """Transport counters (frames dropped as bad, ...) for /metrics."""

    def close(self) -> None: ...


class LocalRobotHub(RobotHub, Protocol):
    """A hub that also serves robots in the store's own process."""

    def attach(
        self,
        robot_id: str,
        aisle: str,
        deliver: Callable[[list[RobotTask]], None],
        withdraw: Callable[[list[str]], None],
    ) -> None: ...

    def detach(self, robot_id: str) -> None: ...

    def closing(self) -> None:
        """The store is stopping: robots detached from now on keep their work."""

    def report(self, reports: list[TaskReport]) -> None: ...

    def progress(self, progress: TaskProgress) -> None: ...

    def add_channel(self, name: str, stats: Callable[[], dict[str, int]]) -> None: ...

    def channel_stats(self) -> dict[str, dict[str, int]]: ...


class RobotEndpoint(Protocol):
    """A robot's side of the robot channel."""

    def report(self, reports: list[TaskReport]) -> None: ...

    def progress(self, progress: TaskProgress) -> None: ...


class MetricsChannel(Protocol):
    """Store → analytics. The store keeps metrics durably, so a lost one is replayed."""

    def publish(self, metrics: list[Metric]) -> None: ...

    def subscribe(self, on_metrics: Callable[[list[Metric]], None]) -> None: ...

    def stats(self) -> dict[str, int]: ...

    def close(self) -> None: ...

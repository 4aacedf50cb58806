"""In-process transports: robots and analytics in the store's own process."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import RobotTask, TaskProgress, TaskReport
from autogrocery.domain.records import RobotSeen
from autogrocery.transports.fleet import Deliver, Fleet, Withdraw

log = logging.getLogger(__name__)

OnReports = Callable[[list[TaskReport]], None]
OnMetrics = Callable[[list[Metric]], None]


class MemoryRobotHub:
    """Robots attach with a delivery callback; reports come back through `report`.
    Tasks and reports pass as objects: nothing is encoded in-process."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._on_reports: OnReports | None = None
        self._host = socket.gethostname()
        self._channels: dict[str, Callable[[], dict[str, int]]] = {"robots": self.stats}

    def start(self, on_reports: OnReports) -> None:
        self._on_reports = on_reports

    def attach(self, robot_id: str, aisle: str, deliver: Deliver, withdraw: Withdraw) -> None:
        self.fleet.join(robot_id, aisle, self._host, deliver, withdraw)

    def detach(self, robot_id: str) -> None:
        self.fleet.leave(robot_id)

    def report(self, reports: list[TaskReport]) -> None:
        self.fleet.reported(reports)
        if self._on_reports is not None:
            self._on_reports(reports)

    def progress(self, progress: TaskProgress) -> None:
        self.fleet.progress(progress)

    def dispatch(self, tasks: list[RobotTask]) -> None:
        self.fleet.dispatch(tasks)

    def withdraw(self, task_ids: list[str]) -> None:
        self.fleet.withdraw(task_ids)

    def alive(self, aisle: str) -> bool:
        return self.fleet.alive(aisle)

    def served(self, aisle: str, within: float) -> bool:
        return self.fleet.served(aisle, within)

    def robots(self) -> list[RobotSeen]:
        return self.fleet.robots()

    def overdue(self, max_wait: float) -> list[RobotTask]:
        return self.fleet.overdue(max_wait)

    def stats(self) -> dict[str, int]:
        return {"bad_frames": 0}

    def add_channel(self, name: str, stats: Callable[[], dict[str, int]]) -> None:
        """Report another channel's counters (the metrics channel's) with this hub's."""
        self._channels[name] = stats

    def channel_stats(self) -> dict[str, dict[str, int]]:
        """Each channel's transport counters (for the API's /metrics): `bad_frames`
        always; `refused_key` and `refused_handshake` on a CurveZMQ channel."""
        return {name: stats() for name, stats in self._channels.items()}

    def closing(self) -> None:
        """The store is stopping: robots detached from now on keep their work."""
        self.fleet.close()

    def close(self) -> None:
        self._on_reports = None


class MemoryMetricsChannel:
    def __init__(self) -> None:
        self._subscribers: list[OnMetrics] = []

    def publish(self, metrics: list[Metric]) -> None:
        for deliver in self._subscribers:
            deliver(metrics)

    def subscribe(self, on_metrics: OnMetrics) -> None:
        self._subscribers.append(on_metrics)

    def stats(self) -> dict[str, int]:
        return {"bad_frames": 0}

    def close(self) -> None:
        self._subscribers.clear()

"""Channels that may cross hosts: robot tasks/reports and metrics.

`memory` passes objects in-process; the ZeroMQ transport (`zmq_robots`, `zmq_metrics`,
and the clients `zmq_robot_client` and `zmq_metrics.MetricsFeed`) is imported only when
config chooses it."""

from autogrocery.transports.base import LocalRobotHub, MetricsChannel, RobotEndpoint, RobotHub
from autogrocery.transports.fleet import Fleet
from autogrocery.transports.memory import MemoryMetricsChannel, MemoryRobotHub

__all__ = [
    "Fleet",
    "LocalRobotHub",
    "MemoryMetricsChannel",
    "MemoryRobotHub",
    "MetricsChannel",
    "RobotEndpoint",
    "RobotHub",
]

"""Channels that may cross hosts: robot tasks/reports and metrics."""

from autogrocery.transports.base import MetricsChannel, RobotEndpoint, RobotHub
from autogrocery.transports.fleet import Fleet
from autogrocery.transports.memory import MemoryMetricsChannel, MemoryRobotHub

__all__ = [
    "Fleet",
    "MemoryMetricsChannel",
    "MemoryRobotHub",
    "MetricsChannel",
    "RobotEndpoint",
    "RobotHub",
]

"""The head office app's state, as its route modules find it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from autogrocery.central.intake import ShardState
from autogrocery.central.metrics import CentralMetrics
from autogrocery.central.readmodel import ReadModel


class Links(Protocol):
    """What the API needs of the running chain (the service; a stand-in in tests)."""

    def wake(self) -> None: ...

    def status(self) -> dict[str, str]: ...

    def hub_healthy(self) -> bool: ...

    def hub_nodes(self) -> dict[str, str]: ...

    def shards(self) -> list[ShardState]: ...


@dataclass
class CentralState:
    model: ReadModel
    links: Links
    metrics: CentralMetrics
    store_timeout: float
    zone: datetime.tzinfo
    time_zone: str


CENTRAL = web.AppKey("central", CentralState)


def central(request: web.Request) -> CentralState:
    return request.app[CENTRAL]

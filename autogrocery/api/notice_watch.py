"""Notices of what no table of the store holds: a robot that went offline, and the link
to the head office down for `notify.head_office_after` seconds. Appended here, each
once per going down, for the operators' mail (mail_planner.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson

from autogrocery.api.accounts import AuthTables
from autogrocery.domain import events
from autogrocery.domain.models import now
from autogrocery.domain.records import RobotSeen

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0
INSERT_NOTICE = "INSERT INTO notices (type, at, facts) VALUES (?, ?, ?)"


class NoticeWatch:
    def __init__(
        self,
        tables: AuthTables,
        robots: Callable[[], Awaitable[list[RobotSeen]]],
        vitals: Callable[[], dict[str, float]],
        head_office_after: float,
    ) -> None:
        self._tables = tables
        self._robots = robots
        self._vitals = vitals
        self._after = head_office_after
        self._states: dict[str, str] | None = None  # None: not looked yet (a restart)
        self._down_since: float | None = None
        self._told_down = False

    async def run(self) -> None:
        while True:
            await self.look()
            await asyncio.sleep(LOOK_EVERY)

    async def look(self) -> None:
        robots = await self._robots()
        before, self._states = self._states, {robot.robot_id: robot.state for robot in robots}
        if before is not None:
            for robot in robots:
                if robot.state == "offline" and before.get(robot.robot_id, "offline") != "offline":
                    facts = {"robot_id": robot.robot_id, "aisle": robot.aisle, "host": robot.host}
                    await self._append(events.ROBOT_OFFLINE, facts | {"last_seen": robot.last_seen})
        connected = self._vitals().get("chain_hub_connected")
        if connected is None or connected:
            self._down_since, self._told_down = None, False
            return
        at = now()
        self._down_since = self._down_since or at
        if not self._told_down and at - self._down_since >= self._after:
            self._told_down = True
            await self._append(
                events.HEAD_OFFICE_UNREACHABLE, {"down_for": round(at - self._down_since)}
            )

    async def _append(self, kind: str, facts: dict[str, object]) -> None:
        log.warning("notice: %s %s", kind, facts)
        row = (kind, now(), orjson.dumps(facts).decode())
        await self._tables.transact(lambda conn: conn.execute(INSERT_NOTICE, row))

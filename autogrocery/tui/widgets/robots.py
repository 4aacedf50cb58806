"""The robot fleet: aisle, host, state, last seen, tasks done and failed. An offline
robot is a red row and the summary line above turns red."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from autogrocery.contract.ops import Robot
from autogrocery.tui import format as fmt
from autogrocery.tui.model import StoreModel
from autogrocery.tui.widgets.table import Column, LiveTable, Row
from autogrocery.tui.widgets.text import show

COLUMNS = (  # by priority when narrow: robot, state, aisle, tasks, last seen, host
    Column("robot", "robot", 26, least=14),
    Column("aisle", "aisle", 9, priority=1),
    Column("host", "host", 16, priority=4),
    Column("state", "state", 10),
    Column("last_seen", "last seen", 18, priority=3),
    Column("done", "done", 8, priority=2),
    Column("failed", "failed", 7, priority=2),
)


class RobotsPanel(Vertical):
    def __init__(
        self, model: StoreModel, wall_clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.wall_clock = wall_clock

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-summary")
        yield LiveTable(COLUMNS, id="robots-table")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#robots-table", LiveTable)

    def refresh_from(self, model: StoreModel) -> None:
        now = self.wall_clock()
        robots = sorted(model.robots.values(), key=lambda r: (r.aisle, r.robot_id))
        self.table.sync([row(robot, now) for robot in robots])
        offline = model.offline_robots()
        summary = self.query_one("#fleet-summary", Static)
        online = len(robots) - len(offline)
        aisles = sorted({r.aisle for r in robots})
        dark = [a for a in aisles if all(r.state == "offline" for r in robots if r.aisle == a)]
        if offline:
            text = f"✖ {len(offline)} OFFLINE: {', '.join(sorted(offline))}  ·  {online} online"
            if dark:
                text += f"  ·  no robot for: {', '.join(dark)}"
            show(summary, Text(text, style="bold white on red"))
        else:
            show(
                summary,
                Text(f"✔ all {online} robots online in {len(aisles)} aisles", style="green"),
            )
        summary.set_class(bool(offline), "alarm")


def row(robot: Robot, now: float) -> Row:
    state = robot.state
    style = "bold red" if state == "offline" else ""
    seen = robot.last_seen
    return (
        robot.robot_id,
        (
            Text(robot.robot_id, style=style),
            Text(robot.aisle, style=style),
            Text(robot.host, style=style),
            fmt.status(state),
            Text(f"{fmt.clock(seen)} {fmt.ago(seen, now)}", style=style),
            Text(str(robot.tasks_done), justify="right", style=style),
            Text(str(robot.tasks_failed), justify="right", style=style),
        ),
    )

"""The fleet registry: assignment to live robots, waiting work, hand-over on leave."""

from __future__ import annotations

from typing import Any

from autogrocery.domain.messages.fulfilment import RobotTask, TaskLine, TaskReport
from autogrocery.domain.models import TaskKind
from autogrocery.transports.fleet import Fleet


def task(task_id: str, aisle: str = "bread") -> RobotTask:
    return RobotTask(task_id, "ord_1", TaskKind.PICK, aisle, (TaskLine("BRD-001", 1),))


def into(sink: list[str], prefix: str = "") -> Any:
    """A robot's delivery callback: the ids of the tasks it was handed, in order."""
    return lambda tasks: sink.extend(f"{prefix}{t.task_id}" for t in tasks)


def done(robot_id: str, task_id: str) -> list[TaskReport]:
    return [TaskReport(task_id, robot_id, True)]


def test_tasks_go_to_the_least_busy_live_robot_of_their_aisle() -> None:
    got: dict[str, list[str]] = {"a": [], "b": [], "m": []}
    fleet = Fleet()
    fleet.join("a", "bread", "h", into(got["a"]))
    fleet.join("b", "bread", "h", into(got["b"]))
    fleet.join("m", "meat", "h", into(got["m"]))
    fleet.dispatch([task(f"t{n}") for n in range(4)])
    assert sorted(got["a"] + got["b"]) == ["t0", "t1", "t2", "t3"]
    assert len(got["a"]) == len(got["b"]) == 2
    assert got["m"] == []


def test_work_waits_for_a_robot_and_moves_when_one_leaves() -> None:
    changes: list[dict[str, Any]] = []
    fleet = Fleet(on_change=changes.append)
    fleet.dispatch([task("t1")])
    assert fleet.waiting() == 1
    assert not fleet.alive("bread")
    first: list[str] = []
    fleet.join("a", "bread", "h", into(first))
    assert first == ["t1"]
    assert fleet.waiting() == 0
    second: list[str] = []
    fleet.join("b", "bread", "h", into(second))
    fleet.leave("a")
    assert second == ["t1"]
    states = {r.robot_id: r.state for r in fleet.robots()}
    assert states == {"a": "offline", "b": "busy"}
    fleet.reported(done("b", "t1"))
    assert {r.robot_id: (r.state, r.tasks_done) for r in fleet.robots()} == {
        "a": ("offline", 0),
        "b": ("idle", 1),
    }
    assert [c.state for c in changes if c.robot_id == "a"][-1] == "offline"


def test_a_robot_whose_delivery_fails_is_taken_offline() -> None:
    fleet = Fleet()

    def broken(_: list[RobotTask]) -> None:
        raise ConnectionError("gone")

    fleet.join("a", "bread", "h", broken)
    fleet.dispatch([task("t1")])
    assert fleet.robots()[0].state == "offline"
    assert fleet.waiting() == 1


def test_a_robot_that_joins_again_gets_the_tasks_it_held() -> None:
    got: list[str] = []
    fleet = Fleet()
    fleet.join("a", "bread", "h1", into(got, "old:"))
    fleet.dispatch([task("t1")])
    fleet.join("a", "bread", "h2", into(got, "new:"))
    assert got == ["old:t1", "new:t1"]
    assert fleet.robots()[0].host == "h2"
    assert fleet.holds("a", "t1")


def test_an_unacknowledged_task_goes_to_another_robot_else_the_same_one() -> None:
    got: dict[str, list[str]] = {"a": [], "b": []}
    fleet = Fleet()
    fleet.join("a", "bread", "h", into(got["a"]))
    fleet.dispatch([task("t1")])
    assert fleet.reassign("a", "t1")  # alone in its aisle: sent to "a" again
    assert got["a"] == ["t1", "t1"]
    fleet.join("b", "bread", "h", into(got["b"]))
    assert fleet.reassign("a", "t1")
    assert got["b"] == ["t1"]
    assert fleet.holds("b", "t1")
    assert not fleet.reassign("a", "t1")  # no longer held by "a"
    fleet.reported(done("b", "t1"))
    fleet.reported(done("b", "t1"))  # a duplicate report counts once
    assert {r.robot_id: r.tasks_done for r in fleet.robots()} == {"a": 0, "b": 1}


def test_waiting_tasks_are_handed_back_after_the_deadline_once() -> None:
    fleet = Fleet()
    fleet.dispatch([task("t1")])
    fleet.dispatch([task("t1")])  # dispatched twice: still waits once
    fleet.dispatch([task("m1", "meat")])
    assert fleet.waiting() == 2
    assert fleet.overdue(60.0) == []
    assert sorted(t.task_id for t in fleet.overdue(0.0)) == ["m1", "t1"]
    assert fleet.waiting() == 0
    assert fleet.overdue(0.0) == []


def test_tasks_handed_over_together_reach_each_robot_together() -> None:
    deliveries: dict[str, list[list[str]]] = {"a": [], "m": []}
    fleet = Fleet()
    fleet.join("a", "bread", "h", lambda tasks: deliveries["a"].append([t.task_id for t in tasks]))
    fleet.join("m", "meat", "h", lambda tasks: deliveries["m"].append([t.task_id for t in tasks]))
    fleet.dispatch([task("b1"), task("m1", "meat"), task("b2"), task("m2", "meat")])
    assert deliveries == {"a": [["b1", "b2"]], "m": [["m1", "m2"]]}

"""The fleet registry: assignment to live robots, waiting work, hand-over on leave."""

from __future__ import annotations

from typing import Any

from autogrocery.transports.fleet import Fleet


def task(task_id: str, aisle: str = "bread") -> dict[str, Any]:
    return {"task_id": task_id, "aisle": aisle}


def test_tasks_go_to_the_least_busy_live_robot_of_their_aisle() -> None:
    got: dict[str, list[str]] = {"a": [], "b": [], "m": []}
    fleet = Fleet()
    fleet.join("a", "bread", "h", lambda t: got["a"].append(t["task_id"]))
    fleet.join("b", "bread", "h", lambda t: got["b"].append(t["task_id"]))
    fleet.join("m", "meat", "h", lambda t: got["m"].append(t["task_id"]))
    for n in range(4):
        fleet.dispatch(task(f"t{n}"))
    assert sorted(got["a"] + got["b"]) == ["t0", "t1", "t2", "t3"]
    assert len(got["a"]) == len(got["b"]) == 2
    assert got["m"] == []


def test_work_waits_for_a_robot_and_moves_when_one_leaves() -> None:
    changes: list[dict[str, Any]] = []
    fleet = Fleet(on_change=changes.append)
    fleet.dispatch(task("t1"))
    assert fleet.waiting() == 1
    assert not fleet.alive("bread")
    first: list[str] = []
    fleet.join("a", "bread", "h", lambda t: first.append(t["task_id"]))
    assert first == ["t1"]
    assert fleet.waiting() == 0
    second: list[str] = []
    fleet.join("b", "bread", "h", lambda t: second.append(t["task_id"]))
    fleet.leave("a")
    assert second == ["t1"]
    states = {r["robot_id"]: r["state"] for r in fleet.robots()}
    assert states == {"a": "offline", "b": "busy"}
    fleet.reported("b", "t1", ok=True)
    assert {r["robot_id"]: (r["state"], r["tasks_done"]) for r in fleet.robots()} == {
        "a": ("offline", 0),
        "b": ("idle", 1),
    }
    assert [c["state"] for c in changes if c["robot_id"] == "a"][-1] == "offline"


def test_a_robot_whose_delivery_fails_is_taken_offline() -> None:
    fleet = Fleet()

    def broken(_: dict[str, Any]) -> None:
        raise ConnectionError("gone")

    fleet.join("a", "bread", "h", broken)
    fleet.dispatch(task("t1"))
    assert fleet.robots()[0]["state"] == "offline"
    assert fleet.waiting() == 1

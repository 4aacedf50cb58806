"""The robot channel over real ZeroMQ sockets on 127.0.0.1, driven by raw test peers."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import zmq

from autogrocery.domain.messages.fulfilment import RobotTask, TaskProgress, TaskReport
from autogrocery.transports.codec import ROBOT_PROTOCOL, frame
from autogrocery.transports.fleet import Fleet
from autogrocery.transports.heartbeat import Heartbeat
from autogrocery.transports.zmq_robot_client import RobotLink
from autogrocery.transports.zmq_robots import ZmqRobotHub
from autogrocery.transports.zmqio import TransportError, ZmqOptions, exposure_problem, is_local
from tests.waiting import until

pytestmark = pytest.mark.timeout(30)

OPTIONS = ZmqOptions(heartbeat=Heartbeat(0.5, 3), ack_timeout=0.3)


def tasks(task_id: str, aisle: str = "bread") -> list[RobotTask]:
    """What fulfilment hands the hub: typed tasks, in a list."""
    return [RobotTask.from_wire(task(task_id, aisle))]


def task(task_id: str, aisle: str = "bread") -> dict[str, Any]:
    """A task as it travels on the wire."""
    return {
        "kind": "task",
        "v": 1,
        "task_id": task_id,
        "order_id": task_id.split(".")[0],
        "op": "PICK",
        "aisle": aisle,
        "lines": [{"sku": "BRD-001", "quantity": 1}],
        "attempt": 1,
    }


class Peer:
    """A raw DEALER that speaks (or garbles) the protocol by hand."""

    def __init__(self, ctx: zmq.Context[Any], endpoint: str) -> None:
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)

    def send(self, *parts: bytes) -> None:
        self.sock.send_multipart(list(parts))

    def register(
        self, robot_id: str, aisle: str = "bread", protocol: int | None = None
    ) -> dict[str, Any]:
        """Register as a robot of `protocol` (None: an older robot that names none)."""
        said = {} if protocol is None else {"protocol": protocol}
        self.send(frame("register", robot_id=robot_id, aisle=aisle, host="test", **said))
        return self.expect("welcome")

    def expect(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        """The next message of `kind`, skipping heartbeats."""
        deadline = time.monotonic() + within
        while True:
            assert self.sock.poll(max(1, int((deadline - time.monotonic()) * 1000))), kind
            message: dict[str, Any] = orjson.loads(self.sock.recv())
            if message["kind"] == kind:
                return message
            assert message["kind"] == "heartbeat", message

    def quiet(self, within: float = 0.3) -> list[dict[str, Any]]:
        """Everything but heartbeats that arrives within `within` seconds."""
        got, deadline = [], time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            if self.sock.poll(int(left * 1000) + 1):
                message = orjson.loads(self.sock.recv())
                if message["kind"] != "heartbeat":
                    got.append(message)
        return got


@pytest.fixture
def ctx() -> Iterator[zmq.Context[Any]]:
    context: zmq.Context[Any] = zmq.Context()
    sockets: list[zmq.Socket[Any]] = []
    original = context.socket

    def socket(kind: int) -> zmq.Socket[Any]:
        sock = original(kind)
        sockets.append(sock)
        return sock

    context.socket = socket  # type: ignore[method-assign]
    yield context
    for sock in sockets:
        sock.close(linger=0)
    context.term()


@pytest.fixture
def hub() -> Iterator[tuple[ZmqRobotHub, list[TaskReport]]]:
    reports: list[TaskReport] = []
    store = ZmqRobotHub(Fleet(), "tcp://127.0.0.1:*", OPTIONS)
    store.start(reports.extend)
    yield store, reports
    store.close()


def states(hub: ZmqRobotHub) -> dict[str, str]:
    return {r.robot_id: r.state for r in hub.robots()}


def test_register_task_ack_report_and_the_store_acks_the_report(
    ctx: zmq.Context[Any], hub: tuple[ZmqRobotHub, list[TaskReport]]
) -> None:
    store, reports = hub
    robot = Peer(ctx, store.endpoint)
    welcome = robot.register("r1")
    assert (welcome["heartbeat"], welcome["misses"]) == (0.5, 3)
    assert store.alive("bread")
    assert not store.alive("meat")
    store.dispatch(tasks("o1.bread"))
    assert robot.expect("task")["task_id"] == "o1.bread"
    assert states(store) == {"r1": "busy"}
    robot.send(frame("ack", task_id="o1.bread"))
    report = {"task_id": "o1.bread", "robot_id": "r1", "ok": True, "error": None}
    robot.send(frame("report", **report))
    assert robot.expect("ack")["task_id"] == "o1.bread"
    until(lambda: reports, within=5)
    assert reports[0] == TaskReport("o1.bread", "r1", True)
    assert until(lambda: states(store) == {"r1": "idle"}, within=5)
    assert store.robots()[0].tasks_done == 1
    assert robot.quiet(0.5) == []  # acknowledged in time: not sent again


def test_a_robot_of_this_protocol_is_told_of_withdrawals_and_reports_progress(
    ctx: zmq.Context[Any], hub: tuple[ZmqRobotHub, list[TaskReport]]
) -> None:
    store, _ = hub
    robot = Peer(ctx, store.endpoint)
    assert robot.register("r1", protocol=ROBOT_PROTOCOL)["protocol"] == ROBOT_PROTOCOL
    store.dispatch(tasks("o1.bread") + tasks("o2.bread"))
    for _ in range(2):
        robot.send(frame("ack", task_id=robot.expect("task")["task_id"]))
    robot.send(frame("progress", task_id="o1.bread", robot_id="r1", done=3, of=40))
    work = until(lambda: store.robots()[0].working_on, within=5)
    assert (work.task_id, work.done, work.of) == ("o1.bread", 3, 40)
    store.withdraw(["o2.bread"])
    assert robot.expect("withdraw")["task_ids"] == ["o2.bread"]
    assert store.fleet.holds("r1", "o1.bread")
    assert not store.fleet.holds("r1", "o2.bread")


def test_an_older_robot_still_works_and_the_store_says_what_it_lacks(
    ctx: zmq.Context[Any],
    hub: tuple[ZmqRobotHub, list[TaskReport]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="autogrocery.transports.zmq_robots")
    store, reports = hub
    old = Peer(ctx, store.endpoint)
    old.register("old")  # protocol 1: names none
    old.register("old")  # again (a reconnect): said once
    said = [r.getMessage() for r in caplog.records if "older autogrocery" in r.getMessage()]
    assert len(said) == 1
    assert "robot old" in said[0]
    assert "upgrade it" in said[0]
    store.dispatch(tasks("o1.bread") + tasks("o2.bread"))
    for _ in range(2):
        old.send(frame("ack", task_id=old.expect("task")["task_id"]))
    store.withdraw(["o2.bread"])  # it cannot be told: no frame it does not know
    assert old.quiet(0.5) == []
    old.send(frame("report", task_id="o1.bread", robot_id="old", ok=True, error=None))
    until(lambda: reports, within=5)
    assert store.bad_frames == 0


def test_an_unacknowledged_task_goes_to_another_robot(
    ctx: zmq.Context[Any], hub: tuple[ZmqRobotHub, list[TaskReport]]
) -> None:
    store, _ = hub
    deaf, other = Peer(ctx, store.endpoint), Peer(ctx, store.endpoint)
    deaf.register("deaf")
    store.dispatch(tasks("o1.bread"))
    assert deaf.expect("task")["task_id"] == "o1.bread"  # and never acknowledged
    other.register("other")
    assert other.expect("task")["task_id"] == "o1.bread"
    assert store.stats()["tasks_resent"] >= 1
    other.send(frame("ack", task_id="o1.bread"))


def test_a_silent_robot_goes_offline_and_its_tasks_move(
    ctx: zmq.Context[Any], hub: tuple[ZmqRobotHub, list[TaskReport]]
) -> None:
    store, _ = hub
    silent, other = Peer(ctx, store.endpoint), Peer(ctx, store.endpoint)
    silent.register("silent")
    store.dispatch(tasks("o1.bread"))
    silent.expect("task")
    silent.send(frame("ack", task_id="o1.bread"))
    other.register("other")
    started = time.monotonic()
    while time.monotonic() - started < OPTIONS.heartbeat.timeout + 1:  # only "other" beats
        other.send(frame("heartbeat"))
        time.sleep(0.05)
        if states(store).get("silent") == "offline":
            break
    assert states(store)["silent"] == "offline"
    assert time.monotonic() - started < OPTIONS.heartbeat.timeout + 0.5
    assert other.expect("task")["task_id"] == "o1.bread"


def test_a_robot_the_store_does_not_know_is_told_to_register(
    ctx: zmq.Context[Any], hub: tuple[ZmqRobotHub, list[TaskReport]]
) -> None:
    store, reports = hub
    stranger = Peer(ctx, store.endpoint)
    stranger.send(frame("heartbeat"))
    stranger.expect("reset")
    stranger.send(frame("report", task_id="x", robot_id="stranger", ok=True, error=None))
    stranger.expect("reset")
    assert reports == []
    assert store.robots() == []


def test_bye_hands_the_tasks_over_at_once(
    ctx: zmq.Context[Any], hub: tuple[ZmqRobotHub, list[TaskReport]]
) -> None:
    store, _ = hub
    leaving, staying = Peer(ctx, store.endpoint), Peer(ctx, store.endpoint)
    leaving.register("leaving")
    store.dispatch(tasks("o1.bread"))
    leaving.expect("task")
    leaving.send(frame("ack", task_id="o1.bread"))
    staying.register("staying")
    leaving.send(frame("bye"))
    assert staying.expect("task", within=OPTIONS.heartbeat.timeout)["task_id"] == "o1.bread"
    assert states(store)["leaving"] == "offline"


def test_garbage_is_counted_logged_once_per_peer_and_harmless(
    ctx: zmq.Context[Any],
    hub: tuple[ZmqRobotHub, list[TaskReport]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, _ = hub
    caplog.set_level(logging.WARNING, logger="autogrocery.transports.zmqio")
    junk = Peer(ctx, store.endpoint)
    garbage = [
        (b"\x00\xffnot json",),
        (b"[1,2]",),
        (b'{"kind":"launch","v":1}',),
        (b'{"kind":"register","v":9,"robot_id":"x","aisle":"bread","host":"h"}',),
        (b'{"kind":"register","v":1}',),  # fields missing
        (frame("register", robot_id="", aisle="bread", host="h"),),  # empty id
        (b"two", b"frames"),
        (b"",),
    ]
    for parts in garbage:
        junk.send(*parts)
    until(lambda: store.bad_frames == len(garbage), within=5)
    assert store.stats()["bad_frames"] == len(garbage)
    warnings = [r for r in caplog.records if "bad frame" in r.getMessage()]
    assert len(warnings) == 1
    junk.register("fine-after-all")  # the same peer, now speaking properly
    store.dispatch(tasks("o1.bread"))
    assert junk.expect("task")["task_id"] == "o1.bread"


def test_the_store_refuses_a_public_address_without_curve() -> None:
    assert is_local("tcp://127.0.0.1:5556")
    assert is_local("tcp://[::1]:5556")
    assert is_local("tcp://localhost:5556")
    assert is_local("ipc:///tmp/x")
    assert not is_local("tcp://0.0.0.0:5556")
    assert not is_local("tcp://*:5556")
    assert not is_local("tcp://eth0:5556")
    problem = exposure_problem("tcp://0.0.0.0:5556", curve=False, insecure=False)
    assert problem is not None
    assert "\n" not in problem
    assert "--insecure" in problem
    assert exposure_problem("tcp://0.0.0.0:5556", curve=True, insecure=False) is None
    assert exposure_problem("tcp://0.0.0.0:5556", curve=False, insecure=True) is None
    with pytest.raises(TransportError, match=r"refusing to bind tcp://0\.0\.0\.0:5556"):
        ZmqRobotHub(Fleet(), "tcp://0.0.0.0:5556", ZmqOptions())


def test_a_busy_address_is_a_transport_error(
    hub: tuple[ZmqRobotHub, list[TaskReport]],
) -> None:
    store, _ = hub
    with pytest.raises(TransportError, match="cannot bind"):
        ZmqRobotHub(Fleet(), store.endpoint, OPTIONS)


# --- the robot's side, against a hand-driven store -----------------------------------


class FakeStore:
    def __init__(self, ctx: zmq.Context[Any]) -> None:
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.bind("tcp://127.0.0.1:*")
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.rids: set[bytes] = set()

    def expect(self, kind: str, within: float = 5.0) -> tuple[bytes, dict[str, Any]]:
        """The next message of `kind`; heartbeats the robots while it waits."""
        deadline = time.monotonic() + within
        while True:
            assert time.monotonic() < deadline, kind
            for rid in self.rids:
                self.sock.send_multipart([rid, frame("heartbeat")])
            if not self.sock.poll(50):
                continue
            rid, data = self.sock.recv_multipart()
            self.rids.add(rid)
            message: dict[str, Any] = orjson.loads(data)
            if message["kind"] == kind:
                return rid, message
            assert message["kind"] == "heartbeat", message


def test_the_robot_link_acks_dedups_resends_reports_and_survives_garbage(
    ctx: zmq.Context[Any],
) -> None:
    store = FakeStore(ctx)
    delivered: list[tuple[str, str]] = []
    link = RobotLink(
        store.endpoint,
        [("r1", "bread")],
        "test",
        lambda robot_id, task: delivered.append((robot_id, task.task_id)),
        lambda robot_id, task_ids: None,
        heartbeat=Heartbeat(0.1, 3),
        ack_timeout=0.2,
    )
    link.start()
    try:
        rid, register = store.expect("register")
        assert (register["robot_id"], register["aisle"]) == ("r1", "bread")
        store.sock.send_multipart([rid, b"garbage"])
        store.sock.send_multipart([rid, frame("welcome", heartbeat=0.1, misses=3)])
        until(lambda: link.registered() == ["r1"], within=5)
        for _ in range(2):  # the same task twice while in hand: handed to the robot once
            store.sock.send_multipart([rid, orjson.dumps(task("o1.bread"))])
            assert store.expect("ack")[1]["task_id"] == "o1.bread"
        until(lambda: delivered, within=5)
        assert delivered == [("r1", "o1.bread")]
        assert link.bad.count == 1
        link.report([TaskReport("o1.bread", "r1", True)])
        _, report = store.expect("report")
        _, again = store.expect("report")  # not acknowledged: sent again
        assert report == again == TaskReport("o1.bread", "r1", True).to_wire()
        store.sock.send_multipart([rid, frame("ack", task_id="o1.bread")])
        store.sock.send_multipart([rid, frame("reset")])  # the store forgot us
        rid2, _ = store.expect("register")
        assert rid2 != rid  # a new connection
        store.sock.send_multipart([rid2, frame("welcome", heartbeat=0.1, misses=3)])
        until(lambda: link.registrations == 2, within=5)
    finally:
        link.close()
    said_bye, _ = store.expect("bye", within=2)
    assert said_bye == rid2  # on the link it had


def test_the_robot_link_passes_withdrawals_on_and_progress_only_to_a_store_that_takes_it(
    ctx: zmq.Context[Any],
) -> None:
    store = FakeStore(ctx)
    delivered: list[str] = []
    withdrawn: list[list[str]] = []
    link = RobotLink(
        store.endpoint,
        [("r1", "bread")],
        "test",
        lambda robot_id, task: delivered.append(task.task_id),
        lambda robot_id, task_ids: withdrawn.append(task_ids),
        heartbeat=Heartbeat(0.1, 3),
    )
    link.start()
    try:
        rid, register = store.expect("register")
        assert register["protocol"] == ROBOT_PROTOCOL
        store.sock.send_multipart([rid, frame("welcome", heartbeat=0.1, misses=3)])  # old store
        until(lambda: link.registered() == ["r1"], within=5)
        store.sock.send_multipart([rid, orjson.dumps(task("o1.bread"))])
        store.expect("ack")
        link.progress(TaskProgress("o1.bread", "r1", 1, 9))  # an older store: not sent
        link.report([TaskReport("o0.bread", "r1", True)])  # handled after it, in order
        assert store.expect("report")[1]["task_id"] == "o0.bread"  # no progress before it
        store.sock.send_multipart([rid, frame("ack", task_id="o0.bread")])
        store.sock.send_multipart(
            [rid, frame("welcome", heartbeat=0.1, misses=3, protocol=ROBOT_PROTOCOL)]
        )
        # the welcome is in
        until(lambda: link.links["r1"].store_protocol == ROBOT_PROTOCOL, within=5)
        link.progress(TaskProgress("o1.bread", "r1", 2, 9))
        _, progress = store.expect("progress")
        assert (progress["done"], progress["of"]) == (2, 9)
        store.sock.send_multipart([rid, frame("withdraw", task_ids=["o1.bread"])])
        until(lambda: withdrawn == [["o1.bread"]], within=5)
        store.sock.send_multipart([rid, orjson.dumps(task("o1.bread"))])  # sent again later
        # no longer in hand: handed over
        until(lambda: delivered == ["o1.bread", "o1.bread"], within=5)
    finally:
        link.close()


def test_a_hub_that_never_started_closes_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    """Closed without ever starting (a store that failed before its robots came up):
    nothing listens on its address any more, and nothing waited for a thread."""
    hub = ZmqRobotHub(Fleet(), "tcp://127.0.0.1:*", OPTIONS)
    host, port = hub.endpoint.removeprefix("tcp://").rsplit(":", 1)
    socket.create_connection((host, int(port)), timeout=5).close()  # listening, till closed
    with caplog.at_level(logging.ERROR):
        hub.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]

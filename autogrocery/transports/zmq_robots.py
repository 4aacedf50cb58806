"""The store's side of the robot channel over ZeroMQ (ROUTER, bound by the store).

Protocol (robot DEALER <-> store ROUTER, one orjson frame per message):

    robot -> store: register {robot_id, aisle, host, protocol} | heartbeat | ack {task_id}
                    | report {task_id, robot_id, ok, error}
                    | progress {task_id, robot_id, done, of} | bye
    store -> robot: welcome {heartbeat, misses, protocol} | heartbeat | task {...}
                    | ack {task_id} | withdraw {task_ids} | reset
                    | refused {robot_id, reason, aisles}

`protocol` is `codec.ROBOT_PROTOCOL`. A robot of protocol 1 (an older autogrocery)
still works: it is sent no `withdraw` and does its tasks in arrival order, and the
store says so once when it registers.

A robot registers and then heartbeats; the store heartbeats back, so each side sees the
other die. Every task must be acknowledged within `ack_timeout` (else it goes to another
robot of the aisle), every report is acknowledged by the store (else the robot sends it
again). A robot that says bye, misses `misses` heartbeats or cannot be reached loses
its tasks to the other robots of its aisle, or they wait for one. A frame from a peer
that has not registered gets `reset`, and the robot registers again: that is how robots
find their way back to a restarted store. A robot for an aisle the store does not have
gets `refused`, naming the aisles that exist, and does not try again. Local in-process
robots work as with the
memory hub, through `attach`/`detach`/`report`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import zmq

from autogrocery.domain.messages.fulfilment import RobotTask, TaskProgress, TaskReport
from autogrocery.domain.messages.wire import WireError
from autogrocery.transports.codec import ROBOT_PROTOCOL, TO_STORE, Wire, encode, field, frame
from autogrocery.transports.fleet import Deliver, Fleet, Withdraw, cannot_withdraw
from autogrocery.transports.heartbeat import Pulse
from autogrocery.transports.memory import MemoryRobotHub
from autogrocery.transports.router import RouterLoop
from autogrocery.transports.zmqio import (
    BadFrames,
    ZmqOptions,
    drain_router,
    require_safe,
    send,
)

log = logging.getLogger(__name__)

MAX_NAME = 200
# What the fleet (on its actors' threads) hands the I/O thread for a robot.
_Outbound = (
    tuple[Literal["tasks"], str, list[RobotTask]] | tuple[Literal["withdraw"], str, list[str]]
)


class ZmqRobotHub(MemoryRobotHub):
    """Remote robots over ZeroMQ, and local in-process ones, in one fleet."""

    def __init__(
        self,
        fleet: Fleet,
        endpoint: str,
        options: ZmqOptions,
        aisles: Iterable[str] | None = None,
    ) -> None:
        super().__init__(fleet)
        require_safe(endpoint, options.curve is not None, options.insecure)
        self._local: set[str] = set()
        self.aisles = frozenset(aisles) if aisles is not None else None  # None: any aisle
        self._router = _Router(self, endpoint, options)
        self.endpoint = self._router.endpoint

    def start(self, on_reports: Callable[[list[TaskReport]], None]) -> None:
        super().start(on_reports)
        self._router.start_loop()

    def attach(self, robot_id: str, aisle: str, deliver: Deliver, withdraw: Withdraw) -> None:
        self._local.add(robot_id)
        super().attach(robot_id, aisle, deliver, withdraw)

    def is_local(self, robot_id: str) -> bool:
        return robot_id in self._local

    @property
    def bad_frames(self) -> int:
        return self._router.bad.count

    def stats(self) -> dict[str, int]:
        return self._router.stats()

    def close(self) -> None:
        super().close()
        self._router.stop_loop()


@dataclass(slots=True)
class _Peer:
    robot_id: str
    pulse: Pulse


class _Router(RouterLoop[_Outbound]):
    def __init__(self, hub: ZmqRobotHub, endpoint: str, options: ZmqOptions) -> None:
        self.hub = hub
        self.fleet = hub.fleet
        self.options = options
        self.bad = BadFrames("robots")
        self.counts = {"frames_in": 0, "frames_out": 0, "tasks_resent": 0, "send_full": 0}
        self.peers: dict[bytes, _Peer] = {}
        self.routes: dict[str, bytes] = {}  # robot_id -> routing id
        self.reports: list[TaskReport] = []  # read in this pass, handed over together
        self.unacked: dict[str, tuple[str, float]] = {}  # task_id -> (robot_id, deadline)
        self.old: set[str] = set()  # robots of an older protocol, said once each
        self.beat = Pulse(options.heartbeat)
        super().__init__("zmq-robots", "robots", "robot channel", endpoint, options.curve)

    def stats(self) -> dict[str, int]:
        return {
            "bad_frames": self.bad.count,
            "robots_connected": len(self.peers),
            **self.counts,
            **self.refused(),
        }

    # --- inbound -----------------------------------------------------------------------

    def _readable(self) -> None:
        try:
            drain_router(self.sock, TO_STORE, self._on_message, self.bad, self.counts)
        finally:
            if self.reports:
                reports, self.reports = self.reports, []
                self.hub.report(reports)

    def _on_message(self, rid: bytes, msg: Wire) -> None:
        kind = msg["kind"]
        if kind == "register":
            self._register(rid, msg)
            return
        peer = self.peers.get(rid)
        if peer is None:
            if kind != "bye":
                self._send(rid, frame("reset"))
            return
        peer.pulse.hear()
        if kind == "heartbeat":
            self.fleet.seen(peer.robot_id)
        elif kind == "ack":
            self._acked(peer.robot_id, field(msg, "task_id", str))
        elif kind == "progress":
            progress = TaskProgress.from_wire(msg)
            if progress.robot_id != peer.robot_id:
                raise WireError(f"progress of {progress.robot_id!r} from {peer.robot_id!r}")
            self.fleet.progress(progress)
        elif kind == "report":
            report = TaskReport.from_wire(msg)
            if report.robot_id != peer.robot_id:
                raise WireError(f"report for robot {report.robot_id!r} from {peer.robot_id!r}")
            self._send(rid, frame("ack", task_id=report.task_id))
            self._acked(peer.robot_id, report.task_id)
            self.reports.append(report)
        elif kind == "bye":
            log.info("robot %s signed off", peer.robot_id)
            self._forget(rid)

    def _register(self, rid: bytes, msg: Wire) -> None:
        robot_id, aisle, host = (field(msg, key, str) for key in ("robot_id", "aisle", "host"))
        protocol = field(msg, "protocol", int) if "protocol" in msg else 1
        if not (0 < len(robot_id) <= MAX_NAME and 0 < len(aisle) <= MAX_NAME):
            raise WireError("register: robot_id and aisle must be 1..200 characters")
        if self.hub.is_local(robot_id):
            raise WireError(f"register: {robot_id!r} is the id of an in-process robot")
        known = self.hub.aisles
        if known is not None and aisle not in known:
            reason = f"the store has no aisle {aisle!r}; its aisles: {', '.join(sorted(known))}"
            log.warning("robot %s refused: %s", robot_id, reason)
            self._send(
                rid, frame("refused", robot_id=robot_id, reason=reason, aisles=sorted(known))
            )
            return
        current = self.peers.get(rid)
        if current is not None and current.robot_id != robot_id:
            self._forget(rid)  # the same connection now speaks for another robot
        previous = self.routes.get(robot_id)
        if previous is not None and previous != rid:  # the robot came back on a new connection
            old = self.peers.pop(previous, None)
            recent = time.monotonic() - self.options.heartbeat.interval
            if old is not None and old.pulse.heard > recent:
                log.warning(
                    "robot %s registered from a new connection while the old one is alive "
                    "(two robot processes with the same --id?)",
                    robot_id,
                )
        if protocol < ROBOT_PROTOCOL and robot_id not in self.old:
            self.old.add(robot_id)
            log.warning(
                "robot %s runs an older autogrocery (robot protocol %d, this store %d): it "
                "works, but does its tasks in arrival order (customer picks may wait behind "
                "shelving) and keeps the tasks of cancelled orders; upgrade it",
                robot_id,
                protocol,
                ROBOT_PROTOCOL,
            )
        self.peers[rid] = _Peer(robot_id, Pulse(self.options.heartbeat))
        self.routes[robot_id] = rid
        post = self.post

        def deliver(tasks: list[RobotTask]) -> None:
            post(("tasks", robot_id, tasks))

        def withdraw(task_ids: list[str]) -> None:
            post(("withdraw", robot_id, task_ids))

        told = withdraw if protocol >= 2 else cannot_withdraw
        self.fleet.join(robot_id, aisle, host[:MAX_NAME], deliver, told)
        welcome = frame("welcome", protocol=ROBOT_PROTOCOL, **self.options.heartbeat.wire())
        self._send(rid, welcome)  # tasks come after

    def _acked(self, robot_id: str, task_id: str) -> None:
        entry = self.unacked.get(task_id)
        if entry is not None and entry[0] == robot_id:
            del self.unacked[task_id]

    # --- outbound ----------------------------------------------------------------------

    def _handle(self, item: _Outbound) -> None:
        robot_id = item[1]
        rid = self.routes.get(robot_id)
        if rid is None:
            return  # it left; the fleet gave its tasks to others
        if item[0] == "withdraw":
            task_ids = item[2]
            for task_id in task_ids:
                self.unacked.pop(task_id, None)
            self._send(rid, frame("withdraw", task_ids=task_ids))
            return
        deadline = time.monotonic() + self.options.ack_timeout
        for task in item[2]:
            self.unacked[task.task_id] = (robot_id, deadline)
            self._send(rid, encode(task.to_wire()))

    def _send(self, rid: bytes, data: bytes) -> None:
        try:
            if send(self.sock, [rid, data]):
                self.counts["frames_out"] += 1
            else:
                self.counts["send_full"] += 1
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            if rid in self.peers:
                log.warning("robot %s is unreachable", self.peers[rid].robot_id)
                self._forget(rid)

    def _forget(self, rid: bytes) -> None:
        peer = self.peers.pop(rid, None)
        if peer is None:
            return
        if self.routes.get(peer.robot_id) == rid:
            del self.routes[peer.robot_id]
            for task_id in [t for t, (r, _) in self.unacked.items() if r == peer.robot_id]:
                del self.unacked[task_id]
            self.fleet.leave(peer.robot_id)

    # --- timers ------------------------------------------------------------------------

    def _tick(self, now: float) -> float:
        if self.beat.beat_due(now):
            heartbeat = frame("heartbeat")
            for rid in list(self.peers):
                self._send(rid, heartbeat)
        for rid, peer in list(self.peers.items()):
            if peer.pulse.silent(now):
                log.warning(
                    "robot %s missed %d heartbeats", peer.robot_id, self.options.heartbeat.misses
                )
                self._forget(rid)
        late = [(t, r) for t, (r, deadline) in self.unacked.items() if deadline <= now]
        for task_id, robot_id in late:
            del self.unacked[task_id]
            if self.fleet.reassign(robot_id, task_id):
                self.counts["tasks_resent"] += 1
        wait = self.beat.until_next(now)
        if self.unacked:
            wait = min(wait, min(d for _, d in self.unacked.values()) - now)
        return wait

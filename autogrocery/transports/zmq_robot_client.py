"""A robot process's side of the robot channel: one DEALER per robot, one I/O thread.

Each robot registers, heartbeats, acknowledges every task as it arrives, and keeps each
report until the store acknowledges it (resending it after a reconnect). When the store
goes quiet for `misses` heartbeats, or answers `reset`, the robot opens a new
connection and registers again (the Paranoid Pirate pattern of the ZeroMQ guide), so a
restarted store gets its robots back without anyone restarting them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import zmq

from autogrocery.domain.messages.fulfilment import RobotTask, TaskProgress, TaskReport
from autogrocery.domain.messages.wire import WireError
from autogrocery.transports.codec import ROBOT_PROTOCOL, TO_ROBOT, Wire, encode, frame
from autogrocery.transports.codec import field as wire_field
from autogrocery.transports.dealer import DealerLoop
from autogrocery.transports.heartbeat import Heartbeat, Pulse
from autogrocery.transports.zmqio import (
    CurveClient,
    send,
)

log = logging.getLogger(__name__)

# What the robots' threads hand the I/O thread.
_Posted = (
    tuple[Literal["report"], list[TaskReport]]
    | tuple[Literal["progress"], TaskProgress]
    | tuple[Literal["rejoin"], str]
)


@dataclass(slots=True)
class _Link:
    robot_id: str
    aisle: str
    pulse: Pulse
    sock: zmq.Socket[bytes] | None = None
    monitor: zmq.Socket[bytes] | None = None  # the handshake events of `sock`
    registered: bool = False
    store_protocol: int = 1  # what the store's welcome said it speaks
    refused: bool = False  # the store has no such aisle: no more tries
    warned: bool = False  # about a store that does not answer, since the last welcome
    pending: dict[str, tuple[float, bytes]] = field(default_factory=dict)  # unacked reports
    working: set[str] = field(default_factory=set)  # tasks handed to the robot, not reported


class RobotLink(DealerLoop[_Posted]):
    """Connects robots (id, aisle) to the store; tasks go to `deliver(robot_id, task)`,
    decoded, and the ids of withdrawn ones to `withdraw(robot_id, task_ids)`."""

    def __init__(
        self,
        endpoint: str,
        robots: list[tuple[str, str]],
        host: str,
        deliver: Callable[[str, RobotTask], None],
        withdraw: Callable[[str, list[str]], None],
        *,
        heartbeat: Heartbeat | None = None,
        ack_timeout: float = 2.0,
        curve: CurveClient | None = None,
        insecure: bool = False,
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(
            "zmq-robot-link",
            endpoint,
            who="robots",
            channel="robots",
            heartbeat=heartbeat,
            curve=curve,
            insecure=insecure,
        )
        self.on_refused = on_refused  # (robot_id, the store's reason), on the loop thread
        self.host = host
        self.deliver = deliver
        self.withdraw = withdraw
        self.ack_timeout = ack_timeout
        self.links = {
            rid: _Link(rid, aisle, Pulse(self.default_heartbeat)) for rid, aisle in robots
        }
        self.registrations = 0

    # --- any thread --------------------------------------------------------------------

    def start(self) -> None:
        self.start_loop()

    def report(self, reports: list[TaskReport]) -> None:
        """A robot's reports (called from its actor thread)."""
        self.post(("report", reports))

    def progress(self, progress: TaskProgress) -> None:
        """How far a robot got with a long task (called from its actor thread)."""
        self.post(("progress", progress))

    def rejoin(self, robot_id: str) -> None:
        """The robot was restarted: register it again, so the store re-sends its tasks."""
        self.post(("rejoin", robot_id))

    def registered(self) -> list[str]:
        return sorted(rid for rid, link in self.links.items() if link.registered)

    def close(self) -> None:
        self.stop_loop()

    # --- the loop thread ---------------------------------------------------------------

    def _setup(self) -> None:
        for link in self.links.values():
            self._connect(link)

    def _connect(self, link: _Link) -> None:
        self._disconnect(link, linger=0)
        link.sock, link.monitor = self.dial(lambda: self._readable(link))
        link.registered = False
        link.pulse = Pulse(self.default_heartbeat)
        link.pulse.next_beat = time.monotonic() + self.default_heartbeat.timeout
        register = frame(
            "register",
            robot_id=link.robot_id,
            aisle=link.aisle,
            host=self.host,
            protocol=ROBOT_PROTOCOL,
        )
        self._send(link, register)

    def _send(self, link: _Link, data: bytes) -> None:
        if link.sock is not None:
            send(link.sock, [data])

    def _readable(self, link: _Link) -> None:
        if link.sock is not None:
            self.drain(link.sock, lambda: link.sock, TO_ROBOT, lambda m: self._on_message(link, m))

    def _on_message(self, link: _Link, msg: Wire) -> None:
        link.pulse.hear()
        kind = msg["kind"]
        if kind == "welcome":
            link.pulse.heartbeat = Heartbeat.from_wire(msg, self.default_heartbeat)
            link.store_protocol = wire_field(msg, "protocol", int) if "protocol" in msg else 1
            link.pulse.next_beat = time.monotonic()
            if not link.registered:
                self.registrations += 1
                log.info("robot %s registered with %s", link.robot_id, self.endpoint)
            link.registered, link.warned = True, False
            for task_id, (_, data) in list(link.pending.items()):
                link.pending[task_id] = (time.monotonic(), data)
                self._send(link, data)
        elif kind == "reset":
            log.info("the store does not know robot %s; registering again", link.robot_id)
            self._connect(link)
        elif kind == "refused":
            reason = wire_field(msg, "reason", str)
            # Said once: by the caller when it takes refusals (the CLI's one line).
            level = logging.DEBUG if self.on_refused is not None else logging.ERROR
            log.log(level, "the store refused robot %s: %s", link.robot_id, reason)
            link.refused, link.registered = True, False
            self._disconnect(link, linger=0)
            if self.on_refused is not None:
                self.on_refused(link.robot_id, reason)
        elif kind == "task":
            task = RobotTask.from_wire(msg)
            self._send(link, frame("ack", task_id=task.task_id))
            if task.task_id not in link.working:  # a re-sent task in hand is not queued twice
                link.working.add(task.task_id)
                self.deliver(link.robot_id, task)
        elif kind == "withdraw":
            listed: list[object] = wire_field(msg, "task_ids", list)
            task_ids = [task_id for task_id in listed if isinstance(task_id, str)]
            if len(task_ids) != len(listed):
                raise WireError("withdraw: task_ids must be strings")
            link.working.difference_update(task_ids)
            self.withdraw(link.robot_id, task_ids)
        elif kind == "ack":
            link.pending.pop(wire_field(msg, "task_id", str), None)

    def _handle(self, item: _Posted) -> None:
        if item[0] == "rejoin":
            link = self.links.get(item[1])
            if link is not None:
                link.working.clear()
                self._connect(link)
            return
        if item[0] == "progress":
            progress = item[1]
            link = self.links.get(progress.robot_id)
            # Best effort: a lost one is followed by the next, or by the report.
            if link is not None and link.registered and link.store_protocol >= 2:
                self._send(link, encode(progress.to_wire()))
            return
        for report in item[1]:
            link = self.links.get(report.robot_id)
            if link is None:
                log.error("report from unknown robot %r dropped", report.robot_id)
                continue
            link.working.discard(report.task_id)
            data = encode(report.to_wire())
            link.pending[report.task_id] = (time.monotonic(), data)
            if link.registered:
                self._send(link, data)

    def _tick(self, now: float) -> float:
        wait = 1.0
        for link in self.links.values():
            if link.refused:
                continue
            heartbeat = link.pulse.heartbeat
            if link.pulse.silent(now):
                # once an outage, not every retry; a failing handshake has said why itself
                if (link.registered or not link.warned) and self.handshakes.problem is None:
                    log.warning(
                        "robot %s: no word from the store at %s for %.1fs (down or "
                        "unreachable); reconnecting",
                        link.robot_id,
                        self.endpoint,
                        heartbeat.timeout,
                    )
                link.warned = True
                self._connect(link)
                continue
            if link.registered and link.pulse.beat_due(now):
                self._send(link, frame("heartbeat"))
                stale = now - max(self.ack_timeout, heartbeat.timeout)
                for task_id, (sent, data) in list(link.pending.items()):
                    if sent <= stale:
                        link.pending[task_id] = (now, data)
                        self._send(link, data)
            wait = min(wait, link.pulse.until_next(now), heartbeat.interval)
        return wait

    def _disconnect(self, link: _Link, linger: int | None = None) -> None:
        self.hang_up(link.sock, link.monitor, linger)
        link.sock = link.monitor = None

    def _close(self) -> None:
        for link in self.links.values():
            if link.sock is not None and link.registered:
                self._send(link, frame("bye"))
            self._disconnect(link)  # the socket's linger lets the bye go out
            link.registered = False

"""Starts the actors in dependency order behind a ping barrier, stops them in reverse,
logs any actor that dies and restarts robots."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pykka

from autogrocery.actors.analytics import AnalyticsActor
from autogrocery.actors.analytics_storage import StoreLatencies
from autogrocery.actors.base import Actor
from autogrocery.actors.context import Context
from autogrocery.actors.inventory import InventoryActor, RobotPolicy
from autogrocery.actors.ordering import OrderingActor
from autogrocery.actors.pricing import PricingActor
from autogrocery.actors.robot import RobotActor
from autogrocery.domain.messages import (
    AbandonTask,
    ExpireDue,
    Metric,
    Ping,
    RecordMetric,
    Recover,
    TaskReport,
    WireError,
)
from autogrocery.domain.pricing import PricingRule
from autogrocery.transports.base import LocalRobotHub, MetricsChannel

log = logging.getLogger(__name__)

STOP_TIMEOUT = 10.0
MAX_CORE_RESTARTS = 5
RESTART_WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class Settings:
    reservation_ttl: float
    expiry_sweep_interval: float
    robots_per_aisle: int
    pick_time: float
    failure_probability: float
    restart_delay: float
    policy: RobotPolicy
    rule: PricingRule
    csv_path: Path
    robot_seed: int | None = None
    aisle_deadline: float = 60.0  # seconds a task waits for a robot of its aisle


class Supervisor:
    def __init__(
        self,
        ctx: Context,
        settings: Settings,
        hub: LocalRobotHub,
        metrics: MetricsChannel,
        aisles: list[str],
    ) -> None:
        self.ctx = ctx
        self.ctx.on_death = self._died
        self.settings = settings
        self.hub = hub
        self.metrics = metrics
        self.aisles = aisles
        self.refs: dict[str, pykka.ActorRef[Any]] = {}
        self.robots: dict[str, pykka.ActorRef[Any]] = {}
        self.stopping = threading.Event()
        self.restarts = 0
        self._core_deaths: list[float] = []
        self._factories: dict[str, Callable[[], pykka.ActorRef[Any]]] = {}
        self._lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        s = self.settings
        self.ctx.scheduler.start()
        self._factories = dict(
            [
                (
                    "analytics",
                    lambda: AnalyticsActor.start(
                        StoreLatencies(self.ctx.connect, s.csv_path), self.ctx.on_death
                    ),
                ),
                ("pricing", lambda: PricingActor.start(self.ctx, s.rule)),
                ("inventory", lambda: InventoryActor.start(self.ctx, s.policy, self.hub)),
                (
                    "ordering",
                    lambda: OrderingActor.start(
                        self.ctx, s.reservation_ttl, self.metrics, self.hub
                    ),
                ),
            ]
        )
        try:
            for name in self._factories:
                self._start_core(name)
            self.metrics.subscribe(self._on_metric)
            self.hub.start(self._on_report)
            for aisle in self.aisles:
                for number in range(1, s.robots_per_aisle + 1):
                    self._start_robot(f"{aisle}-{number}", aisle)
            timeout = self.ctx.ask_timeout * 6
            self.refs["inventory"].ask(Recover(), timeout=timeout)
            self.refs["ordering"].ask(Recover(), timeout=timeout)
            self.refs["analytics"].ask(Recover(), timeout=timeout)
        except BaseException:
            self.stop()
            raise
        self.ctx.scheduler.every(s.expiry_sweep_interval, self._sweep)
        self.ctx.scheduler.every(min(1.0, s.aisle_deadline / 4), self._abandon_overdue)
        log.info("store started: %d aisles, %d robot(s)", len(self.aisles), len(self.robots))

    def stop(self) -> None:
        """Robots first, then ordering, inventory, pricing, analytics; each finishes the
        message in hand."""
        self.stopping.set()
        self.ctx.scheduler.stop()
        for robot_id in list(self.robots):
            self.hub.detach(robot_id)
        for ref in list(self.robots.values()):
            _stop(ref)
        self.hub.close()
        for name in ("ordering", "inventory", "pricing", "analytics"):
            ref = self.refs.get(name)
            if ref is not None:
                _stop(ref)
        self.metrics.close()
        self.ctx.close_store()
        log.info("store stopped")

    def health(self) -> dict[str, bool]:
        status = {name: ref.is_alive() for name, ref in self.refs.items()}
        for aisle in self.aisles:
            status[f"robots.{aisle}"] = self.hub.alive(aisle)
        return status

    # --- robots ------------------------------------------------------------------------

    def _start_robot(self, robot_id: str, aisle: str) -> None:
        s = self.settings
        seed = None if s.robot_seed is None else hash((s.robot_seed, robot_id))
        ref = RobotActor.start(
            robot_id,
            aisle,
            self.hub.report,
            s.pick_time,
            s.failure_probability,
            self.stopping,
            seed,
            self._died,
        )
        with self._lock:
            self.robots[robot_id] = ref
        self.hub.attach(robot_id, aisle, ref.tell)

    def _start_core(self, name: str) -> None:
        ref = self._factories[name]()
        self.refs[name] = ref
        setattr(self.ctx.peers, name, ref)
        ref.ask(Ping(), timeout=self.ctx.ask_timeout)

    def _died(self, actor: Actor) -> None:
        if self.stopping.is_set():
            return
        delay = self.settings.restart_delay
        if isinstance(actor, RobotActor):
            log.error("robot %s died; restarting it in %.1fs", actor.robot_id, delay)
            self.hub.detach(actor.robot_id)
            self.ctx.scheduler.call_later(
                delay, lambda: self._restart_robot(actor.robot_id, actor.aisle)
            )
            return
        recent = [t for t in self._core_deaths if t > time.monotonic() - RESTART_WINDOW]
        self._core_deaths = [*recent, time.monotonic()]
        if len(recent) >= MAX_CORE_RESTARTS:
            log.critical(
                "actor %s died %d times within %.0fs; not restarting it again",
                actor.name,
                len(recent) + 1,
                RESTART_WINDOW,
            )
            return
        log.critical("actor %s died; restarting it in %.1fs", actor.name, delay)
        self.ctx.scheduler.call_later(delay, lambda: self._restart_core(actor.name))

    def _restart_robot(self, robot_id: str, aisle: str) -> None:
        if self.stopping.is_set():
            return
        self.restarts += 1
        self._start_robot(robot_id, aisle)

    def _restart_core(self, name: str) -> None:
        """A fresh actor rebuilds its state from the store; recovery re-derives whatever
        messages the dead one lost."""
        if self.stopping.is_set():
            return
        self.restarts += 1
        self._start_core(name)
        for peer in ("inventory", "ordering", "analytics"):
            _tell(self.refs[peer], Recover())
        log.warning("actor %s restarted", name)

    # --- channels ----------------------------------------------------------------------

    def _on_report(self, wire: dict[str, Any]) -> None:
        try:
            report = TaskReport.from_wire(wire)
        except WireError as exc:
            log.warning("dropped a bad robot report: %s", exc)
            return
        _tell(self.refs["inventory"], report)

    def _on_metric(self, wire: dict[str, Any]) -> None:
        try:
            metric = Metric.from_wire(wire)
        except WireError as exc:
            log.warning("dropped a bad metric: %s", exc)
            return
        _tell(self.refs["analytics"], RecordMetric(metric))

    def _sweep(self) -> None:
        _tell(self.refs["ordering"], ExpireDue())

    def _abandon_overdue(self) -> None:
        """Tasks that waited `aisle_deadline` for a robot of their aisle fail their order."""
        deadline = self.settings.aisle_deadline
        for task in self.hub.overdue(deadline):
            reason = f"no robot of aisle {task['aisle']} came within {deadline:g}s"
            log.warning("task %s: %s", task["task_id"], reason)
            _tell(self.refs["inventory"], AbandonTask(task["task_id"], reason))


def _tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        log.warning("%s dropped: %s is not running", type(message).__name__, ref)


def _stop(ref: pykka.ActorRef[Any]) -> None:
    try:
        ref.stop(block=True, timeout=STOP_TIMEOUT)
    except pykka.Timeout:
        log.error("%s did not stop within %.0fs", ref, STOP_TIMEOUT)

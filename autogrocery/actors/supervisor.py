"""Starts the actors in dependency order behind a ping barrier, stops them in reverse,
restarts robots that die, and restarts the core together when one of it dies.

The core actors (stock, with the orders; fulfilment; analytics) restart one-for-all: each
derives its state from the store at start, and what one holds in memory (a
reservation not yet stored, a task out) only makes sense next to what the others
hold, so they stop and start together and then recover (Erlang's `one_for_all`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pykka

from autogrocery.actors.analytics import AnalyticsActor
from autogrocery.actors.analytics_storage import StoreLatencies
from autogrocery.actors.fulfilment import FulfilmentActor, RobotPolicy
from autogrocery.actors.ordering import OrderPolicy
from autogrocery.actors.robot import RobotActor
from autogrocery.actors.stock import StockActor
from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.messages.fulfilment import AbandonTask, TaskReport, WithdrawTasks
from autogrocery.domain.messages.lifecycle import Ping, Recover
from autogrocery.domain.messages.ordering import ExpireDue
from autogrocery.domain.messages.stock import ExpireLots
from autogrocery.domain.pricing import PricingRule
from autogrocery.runtime.base import Actor
from autogrocery.runtime.context import Context
from autogrocery.runtime.replies import Batch, call, tell
from autogrocery.transports.base import LocalRobotHub, MetricsChannel

log = logging.getLogger(__name__)

STOP_TIMEOUT = 10.0
MAX_CORE_RESTARTS = 5
RESTART_WINDOW = 60.0
CoreActor = Literal["analytics", "stock", "fulfilment"]
# Started in this order, stopped in reverse.
CORE: tuple[CoreActor, ...] = ("analytics", "stock", "fulfilment")


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
    refused_hold: float = 60.0  # seconds a preview holds stock after a refused confirm
    lot_sweep_interval: float = 3600.0  # seconds between write-offs of expired lots
    expiry_alert_days: int = 2
    large_movement_units: int = 100


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
        self.refs: dict[str, pykka.ActorRef[Any]] = ctx.peers.refs
        self.robots: dict[str, pykka.ActorRef[Any]] = {}
        self.stopping = ctx.peers.stopping
        self.restarts = 0
        self.gave_up: str | None = None  # why the core is no longer restarted
        self._core_deaths: list[float] = []
        self._restarting = False
        self._died_again: str | None = None  # a core actor that died during a restart
        self._lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        s = self.settings
        self.ctx.scheduler.start()
        try:
            self._start_core()
            self.metrics.subscribe(self._metrics_arrived)
            self.hub.start(self._reports_arrived)
            for aisle in self.aisles:
                for number in range(1, s.robots_per_aisle + 1):
                    self._start_robot(f"{aisle}-{number}", aisle)
            self._recover()
        except BaseException:
            self.stop()
            raise
        self.ctx.scheduler.every(s.expiry_sweep_interval, self._sweep)
        self.ctx.scheduler.every(s.lot_sweep_interval, self._expire_lots)
        self.ctx.scheduler.every(min(1.0, s.aisle_deadline / 4), self._abandon_overdue)
        log.info("store started: %d aisles, %d robot(s)", len(self.aisles), len(self.robots))

    def stop(self) -> None:
        """Robots first, then the core in reverse start order; each actor finishes the
        batch in hand."""
        self.stopping.set()
        self.ctx.scheduler.stop()
        self.hub.closing()
        for robot_id in list(self.robots):
            self.hub.detach(robot_id)
        for ref in list(self.robots.values()):
            _stop(ref)
        self.hub.close()
        self._stop_core()
        self.metrics.close()
        self.ctx.close_store()
        log.info("store stopped")

    def health(self) -> dict[str, bool]:
        status = {name: ref.is_alive() for name, ref in self.refs.items()}
        for aisle in self.aisles:
            status[f"robots.{aisle}"] = self.hub.alive(aisle)
        return status

    def problems(self) -> dict[str, str]:
        """What keeps the store from serving, by component (empty when nothing does)."""
        problems: dict[str, str] = {}
        if self.gave_up is not None:
            problems["core"] = f"not restarted any more: {self.gave_up}"
        lost = self.ctx.store_lost()
        if lost is not None:
            problems["store"] = f"{lost}: writes are refused; restart the store"
        failure = self.ctx.write_failure()
        if failure is not None and lost is None:
            since, why = failure
            problems["writes"] = f"failing for {time.time() - since:.0f}s: {why}"
        short = self.ctx.disk_short()
        if short is not None:
            problems["disk"] = short
        return problems

    # --- the core ----------------------------------------------------------------------

    def _factories(self) -> dict[str, Callable[[], pykka.ActorRef[Any]]]:
        s, ctx = self.settings, self.ctx
        return {
            "analytics": lambda: AnalyticsActor.start(
                StoreLatencies(ctx.connect, s.csv_path), ctx.on_death, ctx.scheduler.call_later
            ),
            "stock": lambda: StockActor.start(
                ctx,
                s.rule,
                OrderPolicy(s.reservation_ttl, s.refused_hold, s.aisle_deadline),
                self.metrics,
                self.hub,
                s.expiry_alert_days,
                s.large_movement_units,
            ),
            "fulfilment": lambda: FulfilmentActor.start(ctx, s.policy, self.hub),
        }

    def _start_core(self) -> None:
        factories = self._factories()
        for name in CORE:
            self.refs[name] = factories[name]()
        for name in CORE:  # the barrier: every actor has loaded its state
            call(self.refs[name], Ping(), self.ctx.ask_timeout * 6)

    def _stop_core(self) -> None:
        for name in reversed(CORE):
            ref = self.refs.get(name)
            if ref is not None:
                _stop(ref)

    def _recover(self) -> None:
        timeout = self.ctx.ask_timeout * 6
        call(self.refs["stock"], ExpireLots(), timeout)
        call(self.refs["stock"], Recover(), timeout)
        call(self.refs["analytics"], Recover(), timeout)

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
        self._core_died(actor.name)

    def _core_died(self, name: str) -> None:
        delay = self.settings.restart_delay
        with self._lock:
            if self.gave_up is not None:
                return
            if self._restarting:  # it died while the core restarts: once more after
                self._died_again = name
                return
            recent = [t for t in self._core_deaths if t > time.monotonic() - RESTART_WINDOW]
            self._core_deaths = [*recent, time.monotonic()]
            if len(recent) >= MAX_CORE_RESTARTS:
                self.gave_up = f"{name} died {len(recent) + 1} times within {RESTART_WINDOW:.0f}s"
                log.critical(
                    "%s; not restarting the core again: restart the process "
                    "(/healthz now answers 503)",
                    self.gave_up,
                )
                return
            self._restarting = True
        log.critical("actor %s died; restarting the core in %.1fs", name, delay)
        self.ctx.scheduler.call_later(delay, self._restart_core)

    def _restart_core(self) -> None:
        """Stop what is left of the core, start it afresh from the store, recover."""
        try:
            if self.stopping.is_set():
                return
            self.restarts += 1
            self._stop_core()
            self._start_core()
            self._recover()
            log.warning("the core restarted")
        except Exception:
            log.exception("the core could not restart")
            failed: str | None = "the core"
        else:
            failed = None
        finally:
            with self._lock:
                self._restarting = False
                again, self._died_again = self._died_again, None
        dead = [name for name, ref in self.refs.items() if not ref.is_alive()]
        if not self.stopping.is_set() and (again or failed or dead):
            # A death during the restart (or a failed restart) is a death too.
            self._core_died(again or failed or dead[0])

    # --- robots ------------------------------------------------------------------------

    def _start_robot(self, robot_id: str, aisle: str) -> None:
        s = self.settings
        seed = robot_seed(s.robot_seed, robot_id)
        ref = RobotActor.start(
            robot_id,
            aisle,
            self.hub,
            s.pick_time,
            s.failure_probability,
            self.stopping,
            seed,
            self._died,
        )
        with self._lock:
            self.robots[robot_id] = ref
        self.hub.attach(
            robot_id,
            aisle,
            lambda tasks: ref.tell(Batch(tasks)),
            lambda task_ids: ref.tell(WithdrawTasks(tuple(task_ids))),
        )

    def _restart_robot(self, robot_id: str, aisle: str) -> None:
        if self.stopping.is_set():
            return
        self.restarts += 1
        self._start_robot(robot_id, aisle)

    # --- channels and timers -----------------------------------------------------------

    def _reports_arrived(self, reports: list[TaskReport]) -> None:
        tell(self.refs.get("fulfilment"), Batch(reports))

    def _metrics_arrived(self, metrics: list[Metric]) -> None:
        tell(self.refs.get("analytics"), Batch(metrics))

    def _sweep(self) -> None:
        tell(self.refs.get("stock"), ExpireDue())

    def _expire_lots(self) -> None:
        tell(self.refs.get("stock"), ExpireLots())

    def _abandon_overdue(self) -> None:
        """Tasks that waited `aisle_deadline` for a robot of their aisle fail their order."""
        deadline = self.settings.aisle_deadline
        abandoned = []
        for task in self.hub.overdue(deadline):
            reason = f"no robot of aisle {task.aisle} came within {deadline:g}s"
            log.warning("task %s: %s", task.task_id, reason)
            abandoned.append(AbandonTask(task.task_id, reason))
        if abandoned:
            tell(self.refs.get("fulfilment"), Batch(abandoned))


def _stop(ref: pykka.ActorRef[Any]) -> None:
    try:
        ref.stop(block=True, timeout=STOP_TIMEOUT)
    except pykka.Timeout:
        log.error("%s did not stop within %.0fs", ref, STOP_TIMEOUT)


def robot_seed(seed: int | None, robot_id: str) -> str | None:
    """Each robot's own seed from the store's: a str, not hash((seed, robot_id)), since a
    str's hash differs from process to process (PYTHONHASHSEED) and a seeded run must
    draw the same every time."""
    return None if seed is None else f"{seed}:{robot_id}"

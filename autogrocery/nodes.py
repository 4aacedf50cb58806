"""The store's parts that run in processes of their own, on other hosts: robots of some
aisles, and analytics. Each is wired here from its actors and its ZeroMQ transport, and
runs until `stop` is set; `autogrocery robot` and `autogrocery analytics`
(cli/remote.py) read their flags and call these (robots on other hosts:
docs/robots-on-other-hosts.md)."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import pykka

    from autogrocery.config import Config
    from autogrocery.domain.messages.analytics import Metric
    from autogrocery.domain.messages.fulfilment import RobotTask
    from autogrocery.runtime.base import Actor
    from autogrocery.transports.zmqio import CurveClient

log = logging.getLogger("autogrocery")

A = TypeVar("A", bound="pykka.Actor")

STOP_TIMEOUT = 10.0


class NodeError(Exception):
    """Why a node cannot start, or why it stopped before `stop` was set: one line."""


# --- robots --------------------------------------------------------------------------


def run_robots(
    config: Config,
    robots: list[tuple[str, str]],
    aisles: list[str],
    *,
    host: str,
    endpoint: str,
    pick_time: float,
    failure: float,
    curve: CurveClient | None,
    stop: threading.Event,
) -> None:
    """A robot actor for each (robot id, aisle) of `robots`, all on one link to the
    store's robot channel at `endpoint`, until `stop` is set; a robot that dies is
    restarted and handed its tasks again. Raises NodeError when the store refuses
    them (an aisle it does not have will not appear by retrying)."""
    import pykka

    from autogrocery.actors.robot import RobotActor
    from autogrocery.domain.messages.fulfilment import WithdrawTasks
    from autogrocery.transports.heartbeat import Heartbeat
    from autogrocery.transports.zmq_robot_client import RobotLink

    aisle_of = dict(robots)
    stopping = threading.Event()
    refs: dict[str, pykka.ActorRef[RobotActor]] = {}
    z = config.zmq

    def deliver(robot_id: str, task: RobotTask) -> None:
        try:
            refs[robot_id].tell(task)
        except (KeyError, pykka.ActorDeadError):
            log.warning("robot %s is restarting; task %s comes back", robot_id, task.task_id)

    def withdraw(robot_id: str, task_ids: list[str]) -> None:
        with contextlib.suppress(KeyError, pykka.ActorDeadError):
            refs[robot_id].tell(WithdrawTasks(tuple(task_ids)))

    refused: list[str] = []

    def refuse(robot_id: str, reason: str) -> None:
        refused.append(reason)
        stop.set()  # an aisle the store does not have will not appear by retrying

    link = RobotLink(
        endpoint,
        robots,
        host,
        deliver,
        withdraw,
        heartbeat=Heartbeat(z.heartbeat_interval, z.heartbeat_misses),
        ack_timeout=z.ack_timeout,
        curve=curve,
        insecure=z.insecure,
        on_refused=refuse,
    )

    def start(robot_id: str) -> None:
        refs[robot_id] = RobotActor.start(
            robot_id, aisle_of[robot_id], link, pick_time, failure, stopping, None, died
        )

    def died(actor: Actor) -> None:
        if stopping.is_set() or not isinstance(actor, RobotActor):
            return
        log.error("robot %s died; restarting it", actor.robot_id)
        start(actor.robot_id)
        link.rejoin(actor.robot_id)  # the store hands it its tasks again

    for robot_id in aisle_of:
        start(robot_id)
    link.start()
    log.info("%d robot(s) for %s connecting to %s", len(robots), ", ".join(aisles), endpoint)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("robots stopping")
        stopping.set()
        link.close()  # says bye, so the store re-dispatches at once
        for ref in refs.values():
            _stop(ref)
    if refused:
        raise NodeError(f"robot: {refused[0]}")


# --- analytics -----------------------------------------------------------------------


def run_analytics(
    config: Config,
    csv_path: Path,
    *,
    endpoint: str,
    curve: CurveClient | None,
    stop: threading.Event,
) -> None:
    """The analytics actor recording into `csv_path` the metrics the store's metrics
    channel at `endpoint` feeds it, from the last one the CSV holds, until `stop` is set
    (or the actor dies). Raises NodeError when the CSV cannot be written or read."""
    import pykka

    from autogrocery.actors.analytics import AnalyticsActor
    from autogrocery.actors.analytics_storage import CsvLatencies, check_csv_path
    from autogrocery.domain.errors import Unavailable
    from autogrocery.domain.messages.analytics import LastSeq
    from autogrocery.runtime.replies import Batch, call
    from autogrocery.transports.heartbeat import Heartbeat
    from autogrocery.transports.zmq_metrics import MetricsFeed

    z = config.zmq

    def record(metrics: list[Metric]) -> None:  # called once the feed runs: `ref` is set
        try:
            ref.tell(Batch(metrics))
        except pykka.ActorDeadError:
            stop.set()

    # Refuse a bad endpoint or missing keys before the CSV (or its directory) exists.
    feed = MetricsFeed(
        endpoint,
        record,
        heartbeat=Heartbeat(z.heartbeat_interval, z.heartbeat_misses),
        curve=curve,
        insecure=z.insecure,
    )

    try:
        check_csv_path(csv_path)
    except OSError as exc:
        feed.stop_loop()
        raise NodeError(f"cannot write {csv_path}: {exc}") from None

    def died(actor: Actor) -> None:
        log.critical("analytics died; stopping")
        stop.set()

    ref = AnalyticsActor.start(CsvLatencies(csv_path), died)
    try:
        after = call(ref, LastSeq(), STOP_TIMEOUT)
    except (Unavailable, OSError) as exc:
        feed.stop_loop()
        _stop(ref)
        raise NodeError(f"cannot open {csv_path}: {exc}") from None
    feed.start(after)
    log.info("analytics writing %s from seq %d, fed by %s", csv_path, after, endpoint)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        feed.stop_loop()
        _stop(ref)


def _stop(ref: pykka.ActorRef[A]) -> None:
    import pykka

    try:
        ref.stop(block=True, timeout=STOP_TIMEOUT)
    except pykka.Timeout:
        log.error("%s did not stop within %.0fs", ref, STOP_TIMEOUT)

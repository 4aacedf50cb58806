"""The chain worker: one thread with its own event loop, holding the head office's NATS
connections and running an applier per intake shard, the reconciler, the sender and
the enrolment watch. The read model's blocking calls run off this loop, so neither it
(NATS pings, acks) nor the API's ever waits on the database: each shard's applier on a
thread of its own (on PostgreSQL, shards apply in parallel), the rest on one more.

Each job is kept running: one that fails is logged and started again after a pause
(the same rule as the API's background tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar, TypeVarTuple

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from autogrocery.central.hub import HubProcesses, Internal
from autogrocery.central.hubconf import CENTRAL_USER, SYSTEM_USER, StoreUser
from autogrocery.central.intake import Applier, ShardState
from autogrocery.central.readmodel import Arrival, Down, Enrolment, Outcome, ReadModel
from autogrocery.central.reconciler import Reconciler
from autogrocery.central.sender import Sender
from autogrocery.loop import cancel_all, loop_factory

log = logging.getLogger(__name__)

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
ENROLMENT_POLL = 2.0  # seconds: enrolments made while no SIGHUP reached us are found
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0)
CONNECT_EVENTS = "$SYS.ACCOUNT.*.CONNECT"  # also sent for leaf connections


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    batch: int
    ack_wait: float
    reconcile_interval: float
    shards: int = 1
    replicas: int = 1  # of each intake stream: the hub's nodes, at most 3


class ChainWorker:
    def __init__(
        self,
        hub: HubProcesses,
        model: ReadModel,
        users: Internal,
        settings: WorkerSettings,
        enrolled: Sequence[Enrolment],
    ) -> None:
        """`enrolled`: the stores the hub was started with. A store enrolled since (before
        this worker runs) is then new to it, and reaches the hub at its first look."""
        self.hub = hub
        self.model = model
        self.users = users
        self.settings = settings
        self.appliers: dict[int, Applier] = {}
        self.reconciler: Reconciler | None = None
        self.sender: Sender | None = None
        self.failing: dict[str, str] = {}
        self._generations = {e.store_id: e.generation for e in enrolled}
        self._placed = {e.store_id: e.shard for e in enrolled}
        self._jobs: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._enrolment = asyncio.Event()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="central-chain-db")
        self._shard_db: dict[int, ThreadPoolExecutor] = {}
        self.nc: Client | None = None
        self._stopping = False

    # --- from other threads ----------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Connect to the hub and make the intake stream; raises if it cannot."""
        self._thread = threading.Thread(target=self._run, name="chain-worker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"the chain worker did not connect to the hub within {timeout:g}s")
        if self._error is not None:
            self.stop()
            raise RuntimeError(f"the chain worker could not start: {self._error}")

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        loop, task = self._loop, self._main_task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)
        for executor in (self._db, *self._shard_db.values()):
            executor.shutdown(wait=True, cancel_futures=True)

    @property
    def applier(self) -> Applier | None:
        """Shard 0's applier (the only one of a head office with one shard)."""
        return self.appliers.get(0)

    def shards(self) -> list[ShardState]:
        """Each shard's applier as it stands (read from another thread: a snapshot)."""
        return [applier.state() for _, applier in sorted(dict(self.appliers).items())]

    def wake(self) -> None:
        """Something is due to a store (a transfer asked for, a catalog published)."""
        self._call(lambda: self.sender.wake.set() if self.sender else None)

    def enrolment_changed(self) -> None:
        """A store was enrolled or rotated (SIGHUP from `central enroll`): look now."""
        self._call(self._enrolment.set)

    def status(self) -> dict[str, str]:
        """Each part: "ok", or what is wrong (for /readyz)."""
        if self._thread is None or not self._thread.is_alive():
            return {"chain worker": "not running"}
        checks = {"hub link": "ok" if self.nc is not None and self.nc.is_connected else "down"}
        appliers = dict(self.appliers)
        if not appliers:
            checks["applier"] = "not started"
        for shard, applier in sorted(appliers.items()):
            why = applier.alive()
            name = "applier" if shard == 0 else f"applier {applier.stream}"
            checks[name] = "ok" if why is None else f"{applier.stream}: {why}"
        checks.update({f"job {name}": why for name, why in self.failing.items()})
        return checks

    def _call(self, action: Callable[[], object]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(action)

    # --- the worker's own thread ------------------------------------------------------------

    def _run(self) -> None:
        factory = loop_factory()
        with asyncio.Runner(loop_factory=factory) as runner:
            self._loop = runner.get_loop()
            try:
                runner.run(self._main())
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # reported to start(), or logged once running
                self._error = exc
                log.exception("the chain worker stopped")
            finally:
                self._ready.set()

    async def db(self, work: Callable[[*Ts], T], *args: *Ts) -> T:
        """Run a blocking read-model call on the worker's database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._db, work, *args)

    async def _main(self) -> None:
        self._main_task = asyncio.current_task()
        self._enrolment = asyncio.Event()
        nc = self.nc = await self._connect(CENTRAL_USER, self.users.central_password)
        sys_nc = await self._connect(SYSTEM_USER, self.users.system_password)
        js = nc.jetstream()
        s = self.settings
        self.reconciler = Reconciler(
            nc,
            js,
            self._placement,
            self._leaf_seen,
            s.reconcile_interval,
            unanswered=lambda: asyncio.to_thread(self.hub.restart_unanswering),
            intake_shards=lambda: list(self.appliers),
        )
        self.sender = Sender(js, self._due, self._delivered)
        try:
            for shard in sorted({*range(s.shards), *self._placed.values()}):
                await self._start_applier(js, shard)
            await sys_nc.subscribe(CONNECT_EVENTS, cb=self._connected)
            self._ready.set()
            self._jobs += [
                asyncio.create_task(self._keep(name, job), name=name)
                for name, job in (
                    ("reconciler", self.reconciler.run),
                    ("sender", self.sender.run),
                    ("enrolment", lambda: self._watch_enrolment(sys_nc, js)),
                )
            ]
            try:
                await asyncio.Event().wait()  # each job is kept running: only a stop ends
            finally:
                await cancel_all(self._jobs)  # a job's fetch may lose one cancellation
        finally:
            self._stopping = True
            # Closed, not drained: what was fetched and not acknowledged is redelivered.
            for conn in (nc, sys_nc):
                with contextlib.suppress(nats.errors.Error, OSError):
                    await conn.close()

    async def _connected(self, msg: Msg) -> None:
        """A connection to the hub was made (a system event): a store's leaf, if it is in
        a store's account. Its stream is sourced again and what is due to it sent now."""
        account = msg.subject.split(".")[2]
        if not account.startswith("S_"):
            return
        store = account[2:]
        log.info("store %s's leaf linked to the hub", store, extra={"store_id": store})
        if self.reconciler is not None:
            self.reconciler.relinked(store)
        if self.sender is not None:
            self.sender.forgive(store)
            self.sender.wake.set()

    async def _connect(self, user: str, password: str) -> Client:
        async def disconnected() -> None:
            if not self._stopping:
                log.warning("lost the link to the hub (as %s); reconnecting", user)

        async def reconnected() -> None:
            log.info("linked to the hub again (as %s)", user)

        async def error(exc: Exception) -> None:
            log.debug("NATS client (%s): %s", user, exc)

        return await nats.connect(
            servers=self.hub.client_urls,
            user=user,
            password=password,
            name=f"autogrocery-central-{user}",
            connect_timeout=2,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
        )

    async def _start_applier(self, js: JetStreamContext, shard: int) -> None:
        """The shard's intake stream and consumer made (if new), its applier running."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"central-intake-{shard}")
        self._shard_db[shard] = executor

        async def apply(batch: list[Arrival]) -> Outcome:
            return await asyncio.get_running_loop().run_in_executor(
                executor, self.model.apply, batch
            )

        s = self.settings
        applier = Applier(
            shard,
            js,
            apply,
            self._enrolled,
            batch=s.batch,
            ack_wait=s.ack_wait,
            applied=self._applied,
            replicas=s.replicas,
        )
        try:
            await applier.ensure()
        except (nats.errors.Error, OSError) as exc:
            # A hub cluster started afresh elects its streams' leaders a few seconds
            # after it answers: the applier makes its stream when it can (`run`).
            log.warning(
                "the intake stream %s is not ready (%s); its applier waits", applier.stream, exc
            )
        self.appliers[shard] = applier
        name = "applier" if shard == 0 else f"applier {applier.stream}"
        self._jobs.append(asyncio.create_task(self._keep(name, applier.run), name=name))

    async def _keep(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            try:
                await job()
                why = "it returned"
            except Exception as exc:  # a failed job is reported and started again
                why = f"{type(exc).__name__}: {exc}"
                log.error("chain job %s failed (%s)", name, why, exc_info=failures == 0)
            failures = 0 if time.monotonic() - started > 30 else failures + 1
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            self.failing[name] = f"failed ({why}); restarting in {delay:g}s"
            await asyncio.sleep(delay)
            self.failing.pop(name, None)

    # --- the jobs' links to the read model ----------------------------------------------------

    async def _enrolled(self) -> frozenset[str]:
        """The enrolled stores as this worker last read them (the applier checks each
        message against it): a store is in it before the hub lets its leaf in."""
        return frozenset(self._placed)

    async def _placement(self) -> dict[str, int]:
        """Each enrolled store's intake shard."""
        return {e.store_id: e.shard for e in await self.db(self.model.enrolled)}

    def _applied(self, outcome: Outcome) -> None:
        # Only a transfer that moved wakes the sender: the stores' high-water marks go at
        # its next look, not after every batch (at a thousand stores, a look per batch
        # was most of the head office's work).
        if self.sender is not None and outcome.transfers:
            self.sender.wake.set()

    async def _due(self) -> list[Down]:
        return await self.db(self.model.due, time.time())

    async def _delivered(self, down: Down) -> None:
        await self.db(self.model.delivered, down)

    async def _leaf_seen(self, seen: list[tuple[str, str, int]]) -> None:
        await self.db(self.model.leaf_seen, seen, time.time())
        if self.sender is not None:
            for store, _, _ in seen:
                self.sender.forgive(store)
            self.sender.wake.set()

    # --- enrolment ------------------------------------------------------------------------

    async def _watch_enrolment(self, sys_nc: Client, js: JetStreamContext) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._enrolment.wait(), ENROLMENT_POLL)
            self._enrolment.clear()
            await self._reload_if_changed(sys_nc)
            new = sorted(set(self._placed.values()) - set(self.appliers))
            for shard in new:
                await self._start_applier(js, shard)  # a shard's first store: its stream
            if new and self.reconciler is not None:
                self.reconciler.wake.set()

    async def _reload_if_changed(self, sys_nc: Client) -> None:
        enrolled = await self.db(self.model.enrolled)
        now = {e.store_id: e.generation for e in enrolled}
        if now == self._generations:
            return
        self._placed = {e.store_id: e.shard for e in enrolled}  # before its leaf can link
        users = [StoreUser(e.store_id, e.password_hash) for e in enrolled]
        await asyncio.to_thread(self.hub.reload, users)
        rotated = [
            s for s, gen in now.items() if s in self._generations and self._generations[s] != gen
        ]
        added = [s for s in now if s not in self._generations]
        self._generations = now
        log.info(
            "the hub took the enrolled stores (new: %s; rotated: %s)",
            ", ".join(added) or "none",
            ", ".join(rotated) or "none",
            extra={"added": added, "rotated": rotated},
        )
        for store in rotated:
            await self._kick(sys_nc, store)
        if self.reconciler is not None:
            self.reconciler.wake.set()

    async def _kick(self, sys_nc: Client, store: str) -> None:
        """Close the store's current leaf links: they were made with the old credentials,
        which the reloaded hub refuses from now on (its next connection needs the new)."""
        for server_id, cid in await asyncio.to_thread(self.hub.leaf_links, store):
            reply = await sys_nc.request(
                f"$SYS.REQ.SERVER.{server_id}.KICK", json.dumps({"cid": cid}).encode(), timeout=2
            )
            answer = json.loads(reply.data)
            if "error" in answer:
                log.warning(
                    "could not close store %s's old link %s: %s",
                    store,
                    cid,
                    answer["error"].get("description"),
                )
            else:
                log.info("closed store %s's link made with its old credentials", store)

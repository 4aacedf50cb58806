"""Runs a benchmark: closed loop (fixed concurrency) or open loop (fixed arrival rate)."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import orjson

from autogrocery.bench.check import stock_levels, verify
from autogrocery.bench.load import Device, Shopper
from autogrocery.bench.pool import CLOSED_LOOP_CEILING, stocked_pool
from autogrocery.bench.probe import Snapshot, cpu_per_order_ms, mean_batches, snapshot
from autogrocery.bench.stats import Recorder, Report, RunFacts, TimedReport, render
from autogrocery.bench.target import Target, start_store
from autogrocery.client import Account, ApiError, Credentials, Disconnected, StoreClient
from autogrocery.loop import run as run_loop

T = TypeVar("T")

BENCH_TIMEOUT = 120.0  # seconds for a whole request
# The bench's names for the requests its setup makes, in what it prints.
SETUP_REQUESTS = {"/api/auth/login": "login", "/api/auth/register": "register"}


@dataclass(frozen=True)
class BenchOptions:
    url: str | None = None
    concurrency: int | None = 32
    rate: float | None = None
    duration: float = 10.0
    warmup: float = 2.0
    items: int = 3
    aisles: int = 3
    transport: str = "memory"
    robots: int = 1
    pick_time: float = 0.0
    devices: int = 64
    json_path: Path | None = None
    store_options: tuple[str, ...] = ()


async def _bench(target: Target, options: BenchOptions) -> Report:
    async with StoreClient(target.url, timeout=BENCH_TIMEOUT, connections=0) as client:
        operator = Account(Credentials("admin", target.admin_password))
        await retrying("log in as admin", lambda: client.log_in(operator))
        before = await retrying("read the stock", lambda: stock_levels(client, operator))
        pool = stocked_pool(before, options.items, _orders_at_most(options))
        if not pool.skus_by_aisle:
            raise RuntimeError("no SKU has stock: restock the store before benching it")
        progress(
            f"baskets from {pool.summary['skus']} of {pool.summary['of_skus']} SKUs "
            f"(each with {pool.summary['available_at_least']}+ available)"
            + ("" if pool.summary["covered"] else "; too few for this run: expect refusals")
        )
        count = options.concurrency or options.devices
        devices = await _devices(client, count)
        recorder = Recorder()
        shopper = Shopper(client, pool.skus_by_aisle, options.items, options.aisles, recorder)
        window: list[Snapshot] = []
        try:
            elapsed = await _drive(shopper, devices, options, lambda: _mark(client, window))
        finally:
            for device in devices:
                await device.close()
        problems = await retrying(
            "check the books",
            lambda: verify(
                client,
                operator,
                before,
                recorder.picked,
                recorder.total_mismatches,
                exclusive=target.process is not None,
            ),
        )
    info = window[0].info if window else {}
    extra: RunFacts = {
        "mode": "open" if options.rate else "closed",
        "concurrency": options.concurrency if not options.rate else None,
        "rate": options.rate,
        "items": options.items,
        "aisles": options.aisles,
        "devices": len(devices),
        "basket_pool": pool.summary,
        "transport": info.get("robots", options.transport),
        "target": info,
        "reconnects": sum(device.reconnects for device in devices),
        "store_peak_rss_mb": target.peak_rss_mb(),
        "store_cpu_ms_per_order": (
            cpu_per_order_ms(window[0], window[1], recorder.completed) if len(window) == 2 else None
        ),
        "mean_batch": mean_batches(window[0], window[1]) if len(window) == 2 else {},
        "invariants": problems or "ok",
    }
    return recorder.report(elapsed, extra)


def _orders_at_most(options: BenchOptions) -> float:
    """The most orders the run could start, for the stock its baskets need."""
    rate = options.rate or CLOSED_LOOP_CEILING
    return rate * (options.warmup + options.duration)


async def retrying(what: str, step: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """A setup step against a store that may be busy or restarting: try again with
    backoff on 5xx, 429 and broken connections; give up (raise) after `attempts`."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            return await step()
        except ApiError as failure:
            if (failure.status < 500 and failure.status != 429) or attempt == attempts:
                raise
            problem = answered(failure)
        except (Disconnected, OSError) as exc:
            if attempt == attempts:
                raise
            cause = exc.__cause__ or exc
            problem = f"{type(cause).__name__}: {cause}"
        progress(f"could not {what} ({problem}); again in {delay:.1f}s")
        await asyncio.sleep(delay)
        delay = min(3.0, delay * 2)
    raise AssertionError("unreachable")


def answered(failure: ApiError) -> str:
    """An error answer in the bench's words: `login answered 503`."""
    return f"{SETUP_REQUESTS.get(failure.what, failure.what)} answered {failure.status}"


async def register(client: StoreClient, credentials: Credentials) -> None:
    """Register a device, retrying as `retrying` does. A 409 on a retry means an earlier
    try was committed and only its answer was lost (the store restarted): done."""
    tried = False

    async def once() -> None:
        nonlocal tried
        try:
            await client.register(credentials)
        except ApiError as failure:
            if not (failure.status == 409 and tried):
                raise
        finally:
            tried = True

    await retrying(f"register {credentials.username}", once)


def progress(line: str) -> None:
    print(f"autogrocery bench: {line}", file=sys.stderr, flush=True)


async def _devices(client: StoreClient, count: int) -> list[Device]:
    """Register, log in and connect `count` devices (eight at a time), saying how far it
    got every second. A device that cannot be set up after retries is left out."""
    run = secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    ready: list[Device] = []
    lost: list[str] = []

    async def one(n: int) -> None:
        name = f"bench-{run}-{n}"
        device = Device(Account(Credentials(name, password)))
        try:
            await register(client, device.account.credentials)
            await retrying(f"log in {name}", lambda: client.log_in(device.account))
            await retrying(f"connect {name}'s event stream", lambda: device.listen(client))
        except ApiError as failure:
            lost.append(f"{name}: {answered(failure)}")
            return
        except (Disconnected, OSError) as exc:
            lost.append(f"{name}: {exc.__cause__ or exc}")
            return
        ready.append(device)

    gate = asyncio.Semaphore(8)

    async def gated(n: int) -> None:
        async with gate:
            await one(n)

    progress(f"setting up {count} devices")
    setup = asyncio.gather(*(gated(n) for n in range(count)))
    while not setup.done():
        await asyncio.wait([setup], timeout=1.0)
        if not setup.done():
            progress(f"{len(ready)}/{count} devices ready")
    await setup
    if lost:
        progress(f"{len(lost)} device(s) left out: {lost[0]}")
    if not ready:
        raise RuntimeError("no device could be set up")
    return ready


async def _mark(client: StoreClient, window: list[Snapshot]) -> None:
    """A /metrics snapshot at an edge of the measured window (none if the store is
    away just then: the CPU figure is left out)."""
    try:
        window.append(await snapshot(client))
    except (aiohttp.ClientError, OSError) as exc:
        progress(f"no /metrics snapshot ({exc}); no CPU figure this run")


async def _drive(
    shopper: Shopper,
    devices: list[Device],
    options: BenchOptions,
    mark: Callable[[], Awaitable[None]],
) -> float:
    """Warm up, then measure for `duration`; returns the measured seconds (open loop: until
    the last order started in the window completed). `mark` runs when the measured window
    opens and when it closes."""
    loop = asyncio.get_running_loop()
    measure_from = loop.time() + options.warmup
    stop_at = measure_from + options.duration

    async def marks(closing_at: float | None) -> None:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        await mark()
        if closing_at is not None:
            await asyncio.sleep(max(0.0, closing_at - loop.time()))
            await mark()

    async def closed(device: Device) -> None:
        while loop.time() < stop_at:
            shopper.measuring = loop.time() >= measure_from
            await shopper.order(device)

    async def opened(rate: float) -> float:
        interval = 1.0 / rate
        ring = itertools.cycle(devices)
        pending: set[asyncio.Task[None]] = set()
        tick = loop.time()
        while tick < stop_at:
            shopper.measuring = tick >= measure_from
            task = asyncio.create_task(shopper.order(next(ring)))
            pending.add(task)
            task.add_done_callback(pending.discard)
            tick += interval
            await asyncio.sleep(max(0.0, tick - loop.time()))
        await asyncio.gather(*pending)
        # A store slower than the offered rate finishes late: count the time it took.
        return max(options.duration, loop.time() - measure_from)

    if options.rate:
        opening = asyncio.create_task(marks(None))
        elapsed = await opened(options.rate)
        await opening
        await mark()
        return elapsed
    await asyncio.gather(marks(stop_at), *(closed(device) for device in devices))
    return options.duration


def run_bench(options: BenchOptions) -> int:
    """Run it, print the report (and write JSON); 1 when an invariant broke."""
    if options.url:
        target = Target(
            options.url.rstrip("/"),
            os.environ.get("AUTOGROCERY_ADMIN_PASSWORD", ""),
            os.environ.get("AUTOGROCERY_TRUCK_PASSWORD", ""),
        )
    else:
        target = start_store(
            transport=options.transport,
            robots_per_aisle=options.robots,
            pick_time=options.pick_time,
            extra=list(options.store_options),
        )
    try:
        started = time.monotonic()
        measured = run_loop(_bench(target, options))
        report: TimedReport = {**measured, "wall_s": round(time.monotonic() - started, 1)}
    finally:
        target.stop()
    print(render(report))
    if options.json_path is not None:
        options.json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    if report["invariants"] != "ok":
        print("autogrocery bench: INVARIANTS BROKEN — the store is wrong, not fast")
        return 1
    return 0

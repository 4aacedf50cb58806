"""A chain of thousands of virtual stores on one machine, through the real servers.

    python -m tools.chain_sim --stores 1000 --leaves 4 --shards 4 --rate 2 --duration 60 \
        --backlog 1000000 [--sqlite] [--drill]

Starts PostgreSQL (fsync on) in a temp dir (or, with --sqlite, the default SQLite read
model), the real head office (`autogrocery central run`: its hub, its appliers, its
API), enrols the virtual stores, and starts a few real leaf nats-servers carrying them
(tools/chain_sim_leaves.py). Then:

1. steady: every store publishes `--rate` events/s for `--duration` s; the head
   office's lag is each event's `applied_at - at` (its read model's two clocks, one
   machine): p50, p99, max. With --drill, a third of the way in the hub nats-server is
   killed (-9) and two thirds in the head office itself (-9), then started again.
2. backlog: the head office stops; `--backlog` events are published into the leaves;
   it starts again: the catch-up time (from its start to the last event applied) and
   the apply rate, its RSS and CPU meanwhile.

At the end every event published must be in the read model once: the count of
`events` rows, the stores' applied counters and each store's last sequence are
checked against what was published. Prints a JSON report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import tempfile
import time
import zoneinfo
from pathlib import Path
from typing import Any

import bcrypt

from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.chain.natsd import find_binary
from autogrocery.chain.protocol import shard_of
from autogrocery.ports import free_port
from tests.chain.processes import Process
from tests.postgres import PostgresServer
from tools.chain_sim_leaves import LeafServer, Publisher, wait_listening

PASSWORD = "sim-store-password"  # noqa: S105 (made-up stores on loopback)
UTC = zoneinfo.ZoneInfo("UTC")
SHOWN = ("stores", "leaves", "shards", "batch", "rate", "duration", "backlog", "drill", "hub_nodes")


class Office:
    """The head office process, started and stopped as an operator would."""

    def __init__(self, root: Path, db: str, args: argparse.Namespace) -> None:
        self.root, self.db = root, db
        self.args = [
            # The leaf port stays across restarts: the leaves dial it again.
            "central", "run", "--headless", "--port", "0", "--leaf-port", str(free_port()),
            "--data-dir", str(root), "-o", "central.leaf_tls=false",
            "-o", f"central.shards={args.shards}", "-o", f"central.batch={args.batch}",
            "-o", f"central.ack_wait={args.ack_wait}", "-o", f"central.hub_nodes={args.hub_nodes}",
            *(["--db", db] if db else []),
        ]  # fmt: skip
        self.process: Process | None = None
        self.leaf_listen: list[str] = []

    async def start(self) -> None:
        self.process = await Process("central", self.args).start("head office running", 120)
        self.leaf_listen = self.process.said["leaf_listen"].split(", ")

    @property
    def pid(self) -> int:
        if self.process is None or self.process.proc is None:
            raise RuntimeError("the head office is not running")
        return self.process.proc.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hub_pid(self) -> int:
        """The hub's nats-server (of a cluster: its first node's)."""
        found = sorted((self.root / "hub").glob("**/nats-server_*.ports"))
        return int(found[0].stem.split("_", 1)[1])

    def hub_rss_mb(self) -> float:
        """The hub's RSS, all its nodes'."""
        found = (self.root / "hub").glob("**/nats-server_*.ports")
        return sum(rss_mb(int(p.stem.split("_", 1)[1])) for p in found)

    def said(self, text: str) -> list[str]:
        return [line for line in (self.process.log if self.process else []) if text in line]

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop(60)


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all processes, all cores) since boot:
    where the head office, the hub, the leaves and the database share two cores."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0  # gone (a node killed by the drill)
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def applied(model: SqlReadModel) -> int:
    def run(conn: Any) -> int:
        return int(
            conn.execute("SELECT coalesce(sum(events_applied), 0) FROM stores").fetchone()[0]
        )

    return model._read(run)


def lags(model: SqlReadModel, since: float, until: float) -> list[float]:
    def run(conn: Any) -> list[float]:
        rows = conn.execute(
            "SELECT applied_at - at FROM events WHERE at >= ? AND at < ?", (since, until)
        )
        return sorted(float(row[0]) for row in rows)

    return model._read(run)


def once_each(model: SqlReadModel, seqs: dict[str, int]) -> dict[str, object]:
    """Every published event in the read model once, and nothing else."""

    def run(conn: Any) -> dict[str, object]:
        rows = conn.execute("SELECT store_id, count(*), max(seq), min(seq) FROM events GROUP BY 1")
        found = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}
        counters = dict(conn.execute("SELECT store_id, events_applied FROM stores").fetchall())
        wrong = [
            s for s, n in seqs.items()
            if n and (found.get(s) != (n, n, 1) or counters.get(s) != n)
        ]  # fmt: skip
        return {
            "events_rows": sum(v[0] for v in found.values()),
            "published": sum(seqs.values()),
            "stores_wrong": wrong[:10],
            "every_event_once": not wrong
            and sum(v[0] for v in found.values()) == sum(seqs.values()),
        }

    return model._read(run)


async def until_applied(
    model: SqlReadModel, target: int, within: float, office: Office | None = None
) -> dict[str, float]:
    """Wait for `target` events applied; the first and last time it moved, peak RSS."""
    started = time.monotonic()
    first = last = 0.0
    seen, peak, hub_peak = await asyncio.to_thread(applied, model), 0.0, 0.0
    while seen < target:
        if time.monotonic() - started > within:
            raise SystemExit(f"only {seen} of {target} events applied within {within:g}s")
        if int(time.monotonic() - started) % 10 == 0:
            print(f"... {seen} of {target} events applied", flush=True)
        await asyncio.sleep(0.5)
        now_seen = await asyncio.to_thread(applied, model)
        if office is not None:
            peak = max(peak, office.rss_mb())
            hub_peak = max(hub_peak, office.hub_rss_mb())
        if now_seen != seen:
            first = first or time.monotonic()
            last = time.monotonic()
        seen = now_seen
    last = last or time.monotonic()
    return {"first": first, "last": last, "peak_rss_mb": peak, "hub_peak_rss_mb": hub_peak}


async def simulate(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="chain-sim-"))
    pg = None if args.sqlite else PostgresServer(fsync=True)
    db = ""
    if pg is not None:
        pg.start()
        db = pg.database()
    office = Office(root / "hq", db, args)
    stores = [f"sim{n:05d}" for n in range(args.stores)]
    per_leaf = -(-len(stores) // args.leaves)
    leaves: list[LeafServer] = []
    backend = "sqlite" if args.sqlite else "postgresql"
    report: dict[str, Any] = {"backend": backend, **{k: getattr(args, k) for k in SHOWN}}
    model = open_read_model(db, root / "hq", UTC)
    try:
        await office.start()
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
        for store in stores:
            model.enroll(store, hashed, rotate=False, now=time.time(),
                         shard=shard_of(store, args.shards))  # fmt: skip
        asked = time.monotonic()
        os.kill(office.pid, signal.SIGHUP)
        while not office.said("the hub took the enrolled stores"):  # noqa: ASYNC110 (a log)
            await asyncio.sleep(0.05)
        report["hub_reload_s"] = round(time.monotonic() - asked, 2)
        binary = find_binary()
        for n in range(args.leaves):
            server = LeafServer(n, stores[n * per_leaf : (n + 1) * per_leaf], root / f"leaf{n}",
                                office.leaf_listen, PASSWORD)  # fmt: skip
            server.start(binary)
            leaves.append(server)
        for server in leaves:
            await wait_listening(server)
            await server.make_streams()
        publisher = Publisher(leaves, args.skus)
        await publisher.connect()
        linked = time.monotonic()
        await publisher.burst(len(stores))  # one event each: applied once every source runs
        await until_applied(model, publisher.published, 600)
        report["all_sourced_s"] = round(time.monotonic() - linked, 1)

        steady_from = time.time()
        drill = asyncio.create_task(run_drill(office, args.duration)) if args.drill else None
        cpu0, busy0 = office.cpu_s(), machine_busy_s()
        await publisher.steady(args.rate, args.duration)
        busy = machine_busy_s() - busy0
        steady_to = time.time()
        if drill is not None:
            report["drilled"] = await drill
        cpu = None if drill else office.cpu_s() - cpu0
        await until_applied(model, publisher.published, 600)
        found = await asyncio.to_thread(lags, model, steady_from, steady_to)
        report["steady"] = {
            "events": len(found),
            "events_per_s": round(len(found) / args.duration),
            "lag_p50_s": round(statistics.median(found), 3),
            "lag_p99_s": round(found[int(len(found) * 0.99) - 1], 3),
            "lag_max_s": round(found[-1], 3),
            "office_cpu_s_per_s": round(cpu / args.duration, 2) if cpu is not None else None,
            "machine_cpu_s_per_s": round(busy / args.duration, 2),
            "office_rss_mb": round(office.rss_mb()),
            "hub_rss_mb": round(office.hub_rss_mb()),
        }
        print(json.dumps(report), flush=True)

        if args.backlog:
            await office.stop()
            started = time.monotonic()
            await publisher.burst(args.backlog)
            report["backlog_published_s"] = round(time.monotonic() - started, 1)
            target = publisher.published
            started = time.monotonic()
            await office.start()
            cpu0, busy0 = office.cpu_s(), machine_busy_s()
            waited = await until_applied(model, target, 3600, office)
            took = waited["last"] - started
            report["catch_up"] = {
                "events": args.backlog,
                "seconds": round(took, 1),
                "events_per_s": round(args.backlog / took),
                "apply_events_per_s": _rate(args.backlog, waited["last"] - waited["first"]),
                "office_cpu_s": round(office.cpu_s() - cpu0, 1),
                "machine_cpu_s": round(machine_busy_s() - busy0, 1),
                "office_peak_rss_mb": round(waited["peak_rss_mb"]),
                "hub_peak_rss_mb": round(waited["hub_peak_rss_mb"]),
            }
        report["check"] = await asyncio.to_thread(once_each, model, publisher.seqs)
        await publisher.close()
        return report
    finally:
        await office.stop()
        for server in leaves:
            server.stop()
        model.close_now()
        if pg is not None:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


def _rate(events: int, seconds: float) -> int | None:
    return round(events / seconds) if seconds >= 1.0 else None  # polled twice a second


async def run_drill(office: Office, duration: float) -> dict[str, object]:
    """kill -9 the hub a third of the way in, the head office two thirds in."""
    await asyncio.sleep(duration / 3)
    hub = office.hub_pid()
    os.kill(hub, signal.SIGKILL)
    await asyncio.sleep(duration / 3)
    process = office.process
    if process is None or process.proc is None:
        raise RuntimeError("the head office is not running")
    process.kill()
    await process.proc.wait()
    await office.start()
    return {"hub_killed": hub, "office_killed_and_restarted": True}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--leaves", type=int, default=4)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--rate", type=float, default=2.0, help="events/s per store")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--backlog", type=int, default=0)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--hub-nodes", type=int, default=1, help="central.hub_nodes (1, 3, 5)")
    parser.add_argument(
        "--ack-wait", type=float, default=30.0, help="central.ack_wait: a killed office's batch"
    )
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--drill", action="store_true")
    report = asyncio.run(simulate(parser.parse_args()))
    print(json.dumps(report, indent=1))
    return 0 if report["check"]["every_event_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

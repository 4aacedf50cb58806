"""The head office's apply path on each backend and PostgreSQL driver: events/s.

Generates a chain's events (each store's: levels of a few SKUs, a completed sale, now
and then a waste movement), then, on a fresh database each, in turn:

- `sqlite`:   the read model's `apply`, on its SQLite file;
- `psycopg`:  the read model's `apply`, on PostgreSQL through psycopg 3 (what ships);
- `replay-psycopg` / `replay-asyncpg`: the statements that `apply` sent (recorded from
  the psycopg run), replayed batch by batch, one transaction each, through psycopg and
  through asyncpg (`pip install asyncpg` for this one): the two drivers doing the same
  database work, without the model's Python around it.

A PostgreSQL server is started in a temp dir (tests/postgres.py) unless --db names
one. Not a test; from the repo root:

    python -m tools.pg_apply_bench --events 20000 --stores 100 --batch 256
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import re
import shutil
import statistics
import tempfile
import time
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg

from autogrocery.central.apply import apply_batch
from autogrocery.central.pg_backend import PgBackend, PgConn
from autogrocery.central.pg_backend import _rows as pg_rows
from autogrocery.central.readmodel import Arrival
from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.central.sqlconn import Params
from autogrocery.chain.protocol import Facts, Level, Movement, OrderEnd, UpEvent

UTC = zoneinfo.ZoneInfo("UTC")
Recorded = list[list[tuple[str, str, list[Any]]]]  # batches of (kind, sql, params)


def events(count: int, stores: int, seed: int = 7) -> list[Arrival]:
    rng = random.Random(seed)  # noqa: S311 (made-up events)
    seqs = dict.fromkeys(range(stores), 0)
    out = []
    for n in range(count):
        store = n % stores
        seqs[store] += 1
        at = 1_760_000_000.0 + n
        skus = rng.sample(range(2000), 3)
        levels = [Level(f"SKU-{s}", rng.randint(0, 500), rng.randint(0, 5)) for s in skus]
        orders = [OrderEnd(f"ord-{n}", "CUSTOMER", "COMPLETED", rng.randint(100, 9000), 3, at)]
        waste = (
            [Movement(f"SKU-{skus[0]}", "WASTE", -1, None, "lot", 120, at)] if n % 10 == 0 else []
        )
        facts = Facts(levels=levels, orders=orders, movements=waste)
        event = UpEvent(f"s{store:04d}", seqs[store], "stock", at, facts)
        out.append(Arrival(event.store_id, f"UP_{event.store_id}_1", seqs[store], at, event))
    return out


def batches(arrivals: list[Arrival], size: int) -> list[list[Arrival]]:
    return [arrivals[n : n + size] for n in range(0, len(arrivals), size)]


def enrol(model: SqlReadModel, stores: int) -> None:
    for store in range(stores):
        model.enroll(f"s{store:04d}", "hash", rotate=False, now=0.0)


def timed_model(model: SqlReadModel, work: list[list[Arrival]]) -> float:
    began = time.perf_counter()
    for batch in work:
        model.apply(batch)
    return time.perf_counter() - began


class Recording(PgConn):
    """A psycopg connection that notes each statement the model sends."""

    def __init__(self, raw: psycopg.Connection[Any], into: Recorded) -> None:
        super().__init__(raw)
        self.into = into

    def execute(self, sql: str, params: Params = (), /) -> Any:
        self.into[-1].append(("one", sql, list(params)))
        return super().execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params], /) -> None:
        rows = [list(row) for row in rows]
        self.into[-1].append(("many", sql, rows))
        super().executemany(sql, rows)

    def execute_arrays(self, sql: str, columns: list[list[Any]]) -> Any:
        self.into[-1].append(("arrays", sql, columns))
        return super().execute_arrays(sql, columns)


def replay_psycopg(url: str, recorded: Recorded) -> float:
    with psycopg.connect(url, autocommit=True) as raw:
        conn = PgConn(raw)
        began = time.perf_counter()
        for batch in recorded:
            with raw.transaction():
                for kind, sql, params in batch:
                    if kind == "one":
                        conn.execute(sql, params)
                    elif kind == "arrays":
                        conn.execute_arrays(sql, params)
                    else:
                        conn.executemany(sql, params)
        return time.perf_counter() - began


def dollars(sql: str) -> str:
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


async def replay_asyncpg(url: str, recorded: Recorded) -> float:
    # Only for this comparison, not a dependency of ours: `pip install asyncpg`.
    asyncpg: Any = importlib.import_module("asyncpg")

    conn = await asyncpg.connect(url)
    try:
        began = time.perf_counter()
        for batch in recorded:
            async with conn.transaction():
                for kind, sql, params in batch:
                    if kind in ("one", "arrays"):
                        await conn.execute(dollars(sql), *params)
                    else:
                        await conn.executemany(dollars(sql), params)
        return time.perf_counter() - began
    finally:
        await conn.close()


def fresh(server: Any, given: str | None) -> str:
    if given:
        with psycopg.connect(given, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return given
    return str(server.database())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL database to use (emptied!)")
    given = parser.parse_args()
    server = None
    if not given.db:
        from tests.postgres import PostgresServer

        server = PostgresServer()
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
    work = batches(events(given.events, given.stores), given.batch)
    rates: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        rate = given.events / seconds
        rates.setdefault(name, []).append(rate)
        print(f"{name:16} {rate:9.0f} events/s ({seconds:.2f} s)", flush=True)

    scratch = tempfile.mkdtemp(prefix="pg-apply-bench-")
    try:
        for _ in range(given.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                model = open_read_model("", Path(tmp), UTC)
                enrol(model, given.stores)
                note("sqlite", timed_model(model, work))
                model.close_now()
            url = fresh(server, given.db)
            recorded: Recorded = []
            backend = PgBackend(url, Path(scratch))
            model = SqlReadModel(backend, UTC)
            enrol(model, given.stores)
            note("psycopg", timed_model(model, work))
            model.close_now()
            record = PgBackend(fresh(server, given.db), Path(scratch))
            model = SqlReadModel(record, UTC)
            enrol(model, given.stores)
            raw = psycopg.connect(record.url, autocommit=True, row_factory=pg_rows)
            recording = Recording(raw, recorded)
            for batch in work:
                recorded.append([])
                with raw.transaction():
                    apply_batch(recording, batch, UTC, record)
            raw.close()
            model.close_now()
            for name in ("replay-psycopg", "replay-asyncpg"):
                url = fresh(server, given.db)
                model = SqlReadModel(PgBackend(url, Path(scratch)), UTC)
                enrol(model, given.stores)
                model.close_now()
                if name == "replay-psycopg":
                    note(name, replay_psycopg(url, recorded))
                else:
                    note(name, asyncio.run(replay_asyncpg(url, recorded)))
        print(
            "medians: " + ", ".join(f"{k} {statistics.median(v):.0f}/s" for k, v in rates.items())
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

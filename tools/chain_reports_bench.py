"""The head office's reports at a chain's size: a read model filled with STORES stores'
levels of SKUS SKUs each and DAYS days of sales, then each API read timed (median and
worst of five), on SQLite and on PostgreSQL (a server started in a temp dir, as
tests/postgres.py does, unless --db names one). Not a test; from the repo root:

    python -m tools.chain_reports_bench --stores 1000 --skus 5000 --days 365
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import zoneinfo
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from autogrocery.central.apply import DAYS
from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.central.sqlconn import Column, Params

UTC = zoneinfo.ZoneInfo("UTC")
CHUNK = 100_000
SKU_INDEX = "stock_by_sku"
_INDEX_SQL = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE name = ?",
    "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = ?",
}


def fill(model: SqlReadModel, stores: int, skus: int, days: int) -> float:
    began = time.perf_counter()
    names = [f"s{n:04d}" for n in range(stores)]
    for name in names:
        model.enroll(name, "hash", rotate=False, now=0.0)
    backend = model.backend

    def insert(table: str, columns: list[Column], rows: list[Params]) -> None:
        model._write(lambda conn: backend.insert_many(conn, table, columns, rows, ""))

    # The levels are made by the database itself, a store at a time (50,000,000 rows
    # built in Python took half an hour): SKU-00000.. in each store, random units.
    # Without the SKU index while filling, then built again as the schema has it (a sort,
    # not 50,000,000 random inserts).
    index = model._read(
        lambda conn: conn.execute(_INDEX_SQL[backend.name], (SKU_INDEX,)).fetchone()
    )[0]
    model._write(lambda conn: conn.execute(f"DROP INDEX {SKU_INDEX}").close())
    sql = _levels_sql(backend.name)
    for name in names:
        params = (name, skus)
        model._write(lambda conn: conn.execute(sql, params).close())  # noqa: B023 (run now)
    model._write(lambda conn: conn.execute(index).close())
    first = 1_700_000_000
    day_rows: list[Params] = [
        (name, time.strftime("%Y-%m-%d", time.gmtime(first + d * 86_400)), 300, 90_000, 1_200)
        for name in names
        for d in range(days)
    ]
    for start in range(0, len(day_rows), CHUNK):
        insert("daily", DAYS, day_rows[start : start + CHUNK])
    conn = model._conn()
    conn.execute("ANALYZE").close()
    return time.perf_counter() - began


def _levels_sql(backend: str) -> str:
    if backend == "postgresql":
        return (
            "INSERT INTO stock (store_id, sku, on_hand, reserved, seq) "
            "SELECT ?, 'SKU-' || lpad(n::text, 5, '0'), floor(random() * 401)::bigint, "
            "floor(random() * 5)::bigint, 1 FROM generate_series(0, ? - 1) AS n"
        )
    return (
        "WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < ?2) "
        "INSERT INTO stock (store_id, sku, on_hand, reserved, seq) "
        "SELECT ?1, printf('SKU-%05d', n), abs(random() % 401), abs(random() % 5), 1 FROM k"
    )


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    spent = []
    for _ in range(5):
        began = time.perf_counter()
        await work()
        spent.append(1000 * (time.perf_counter() - began))
    return statistics.median(spent), max(spent)


async def reads(model: SqlReadModel, skus: int) -> list[tuple[str, float, float]]:
    middle = f"SKU-{skus // 2:05d}"
    checks: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("GET /api/chain/stores", model.stores),
        ("GET /api/chain/stock?sku=", lambda: model.stock(middle)),
        ("GET /api/chain/stock (a page, limit=100)", lambda: model.stock_page(None, 100)),
        ("GET /api/chain/stock (a page, limit=10)", lambda: model.stock_page(middle, 10)),
        ("GET /api/chain/sales (30 days)", lambda: model.sales("2024-01-01", "2024-01-30")),
        ("GET /api/chain/sales (a year)", lambda: model.sales("2023-11-14", "2024-11-13")),
    ]
    return [(name, *(await timed(work))) for name, work in checks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", help="a PostgreSQL database to use (it must be empty)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    given = parser.parse_args()
    for backend in given.backends.split(","):
        server = None
        url = ""
        if backend == "postgresql":
            url = given.db or ""
            if not url:
                from tests.postgres import PostgresServer

                server = PostgresServer()
        with tempfile.TemporaryDirectory() as tmp:
            try:
                if server is not None:
                    server.start()
                    url = server.database()
                model = open_read_model(url, Path(tmp), UTC)
                seconds = fill(model, given.stores, given.skus, given.days)
                rows = given.stores * given.skus
                print(f"{backend}: {rows:,} stock rows filled in {seconds:.0f} s", flush=True)
                for name, median, worst in asyncio.run(reads(model, given.skus)):
                    print(f"  {name:45} median {median:8.1f} ms  worst {worst:8.1f} ms")
                model.close_now()
            finally:
                if server is not None:
                    server.stop()


if __name__ == "__main__":
    main()

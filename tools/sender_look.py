"""What one look of the head office's sender costs at a chain's size: STORES enrolled
stores, each with its high-water mark due, then `due()` timed (median of five) on
SQLite and on PostgreSQL (a server in a temp dir, as tests/postgres.py starts it). Not
a test; from the repo root:

    python -m tools.sender_look --stores 1000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zoneinfo
from pathlib import Path

from autogrocery.central.readmodel import Arrival
from autogrocery.central.sql_model import open_read_model
from autogrocery.chain.protocol import Facts, Level, UpEvent


def look(url: str, stores: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        model = open_read_model(url, Path(tmp), zoneinfo.ZoneInfo("UTC"))
        try:
            names = [f"s{n:04d}" for n in range(stores)]
            for name in names:
                model.enroll(name, "hash", rotate=False, now=0.0)
            now = time.time()
            model.apply(
                [
                    Arrival(name, f"UP_{name}_1", 1, now, UpEvent(name, 1, "stock", now, facts))
                    for name in names
                    for facts in [Facts(levels=[Level("SKU-1", 1, 0)])]
                ]
            )
            spent, due = [], 0
            for _ in range(5):
                began = time.perf_counter()
                due = len(model.due(time.time()))
                spent.append(1000 * (time.perf_counter() - began))
            return due, statistics.median(spent)
        finally:
            model.close_now()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    given = parser.parse_args()
    due, ms = look("", given.stores)
    print(f"sqlite: {due} messages due to {given.stores} stores, a look {ms:.1f} ms")
    from tests.postgres import PostgresServer

    server = PostgresServer()
    try:
        server.start()
        due, ms = look(server.database(), given.stores)
        print(f"postgresql: {due} messages due to {given.stores} stores, a look {ms:.1f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

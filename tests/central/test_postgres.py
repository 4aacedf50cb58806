"""The read model on a real PostgreSQL server: its schema is SQLite's, made from the same
migrations; a database that is not the head office's is refused; a server restart
loses nothing (the applier's batch is retried whole, the API answers 503 meanwhile and
then serves again); a bad URL is one line."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from autogrocery.central.pg_backend import PgBackend
from autogrocery.central.readmodel import Arrival, ReadModelError
from autogrocery.central.schema import MIGRATIONS, SchemaError, open_db
from autogrocery.central.sql_model import SqlReadModel, open_read_model
from autogrocery.chain.protocol import Facts, Level, UpEvent
from tests.central.test_cli import cli, one_line
from tests.postgres import PostgresServer

UTC = zoneinfo.ZoneInfo("UTC")


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[str]:
    url = postgres.database()
    try:
        yield url
    finally:
        postgres.drop(url)


def sqlite_columns(path: Path) -> dict[str, set[str]]:
    conn = open_db(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    finally:
        conn.close()


def pg_columns(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


def test_one_source_makes_the_same_tables_on_both(tmp_path: Path, database: str) -> None:
    model = open_read_model(database, tmp_path, UTC)
    model.close_now()
    on_pg = pg_columns(database)
    assert on_pg.pop("schema_version") == {"version"}  # PostgreSQL's user_version
    assert on_pg == sqlite_columns(tmp_path / "sqlite.db")
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
        kinds = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'stores'"
            ).fetchall()
        )
    # Times stay full-precision seconds, counters 64-bit, as SQLite keeps them.
    assert kinds["last_seen"] == "double precision"
    assert kinds["events_applied"] == "bigint"
    # The API's own tables are in their SQLite file beside the data.
    assert "accounts" in sqlite_columns(tmp_path / "central-auth.db")


def test_a_database_that_is_not_the_head_offices_is_refused(tmp_path: Path, database: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE products (sku TEXT)")
    with pytest.raises(SchemaError, match="not a head office database"):
        open_read_model(database, tmp_path, UTC)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TABLE products")
        conn.execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (%s)", (len(MIGRATIONS) + 1,))
    with pytest.raises(SchemaError, match="newer than this autogrocery"):
        open_read_model(database, tmp_path, UTC)


async def test_skus_page_in_code_point_order_whatever_the_databases_collation(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """en-US puts "a-2" before "B-1"; SQLite and Python put "B-1" first. The stock list
    merges the stores' SKUs with the catalog's, so both must agree, or a page skips."""
    url = postgres.database(icu_locale="en-US")
    model = open_read_model(url, tmp_path, UTC)
    try:
        model.enroll("north", "x", rotate=False, now=0.0)
        event = UpEvent("north", 1, "stock", time.time(), Facts(levels=[Level("a-2", 1, 0)]))
        model.apply([Arrival("north", "UP_north_1", 1, time.time(), event)])
        model._write(
            lambda conn: conn.execute("INSERT INTO catalog_skus VALUES ('B-1', 1)").close()
        )
        first, more = await model.stock_page(None, 1)
        second, _ = await model.stock_page(first[0].sku, 1)
        assert [first[0].sku, second[0].sku, more] == ["B-1", "a-2", True]
    finally:
        model.close_now()
        postgres.drop(url)


def test_an_unreachable_server_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ReadModelError) as failed:
        open_read_model("postgresql://ho:secret-pw@127.0.0.1:1/chain", tmp_path, UTC)
    text = str(failed.value)
    assert text.startswith("postgresql://127.0.0.1:1/chain: ")
    assert "secret-pw" not in text
    assert "\n" not in text


def arrival(seq: int, on_hand: int) -> Arrival:
    event = UpEvent(
        "north", seq, "stock", time.time(), Facts(levels=[Level("BRD-001", on_hand, 0)])
    )
    return Arrival("north", "UP_north_1", seq, time.time(), event)


async def test_a_server_restart_loses_nothing_and_stops_nothing(tmp_path: Path) -> None:
    """Its own server, restarted under the model: the intake's reads and its batch go
    on at once on a new connection (a failed call would stall the applier until the
    hub redelivers), nothing is applied twice, and the API answers."""
    server = PostgresServer()
    try:
        server.start()
        model = SqlReadModel(PgBackend(server.database(), tmp_path), UTC)
        try:
            model.enroll("north", "x", rotate=False, now=0.0)
            assert model.apply([arrival(1, 10)]).applied == 1
            await asyncio.gather(*(model.stores() for _ in range(4)))  # the API's threads
            server.restart()
            assert [e.store_id for e in model.enrolled()] == ["north"]
            server.restart()
            assert model.apply([arrival(2, 9)]).applied == 1
            assert model.apply([arrival(2, 9)]).duplicates == 1
            server.restart()
            assert [d.store_id for d in model.due(time.time())] == ["north"]  # its hwm
            model.leaf_seen([("north", "UP_north_1", 2)], time.time())
            server.restart()
            for _ in range(4):  # each API thread meets the break once
                stores = await model.stores()
            assert [(s.store_id, s.events_applied, s.hwm) for s in stores] == [("north", 2, 2)]
            stock = await model.stock("BRD-001")
            assert stock is not None
            assert [s.on_hand for s in stock.stores] == [9]
        finally:
            model.close_now()
    finally:
        server.stop()


def test_the_sqlite_file_is_still_the_default(tmp_path: Path) -> None:
    model = open_read_model("", tmp_path, UTC)
    try:
        assert model.backend.name == "sqlite"
        assert model.auth_file == tmp_path / "central.db"
    finally:
        model.close_now()
    assert sqlite3.connect(tmp_path / "central.db").execute("PRAGMA user_version").fetchone() == (
        len(MIGRATIONS),
    )


def test_a_head_office_keeps_the_backend_it_started_with(tmp_path: Path, database: str) -> None:
    """`central enroll` without --db on a PostgreSQL head office would enrol into a new,
    empty SQLite file, and its store would be refused: it is refused instead, and the
    other way round."""
    open_read_model(database, tmp_path / "pg", UTC).close_now()
    with pytest.raises(ReadModelError, match=r"read model is in PostgreSQL.*--db URL"):
        open_read_model("", tmp_path / "pg", UTC)
    assert not (tmp_path / "pg" / "central.db").exists()
    open_read_model("", tmp_path / "lite", UTC).close_now()
    with pytest.raises(ReadModelError, match="holds a SQLite read model"):
        open_read_model(database, tmp_path / "lite", UTC)


def test_enrolling_into_a_database_not_the_head_offices_is_one_line(
    tmp_path: Path, database: str
) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE products (sku TEXT)")
    done = cli("central", "enroll", "north", "--data-dir", str(tmp_path), "--db", database)
    assert done.returncode == 2
    assert one_line(done).startswith("autogrocery: postgresql://127.0.0.1:"), done.stderr
    assert "not a head office database" in done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ho:Zq9#pw@db.example/chain",
        "postgresql://ho:Zq9?pw@db.example/chain",
        "postgresql://ho:p@Zq9pw@db.example:5433/chain",
        "postgresql://db.example/chain?user=ho&password=Zq9pw",
        "postgresql://ho:pa%25Zq9pw@db.example/chain",
    ],
)
def test_config_show_never_prints_the_databases_password(url: str) -> None:
    done = cli("config", "show", "-o", f"central.db={url}")
    assert done.returncode == 0, done.stderr
    assert "Zq9" not in done.stdout + done.stderr
    assert 'db = "postgresql://' in done.stdout


def test_a_url_that_libpq_cannot_read_is_refused_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(ReadModelError) as failed:
        open_read_model("postgresql://ho:pa%ss@127.0.0.1:1/chain", tmp_path, UTC)
    assert "pa%ss" not in str(failed.value)
    done = cli("config", "show", "-o", "central.db=host=db user=ho password=s3cret")
    assert done.returncode == 2
    assert "s3cret" not in done.stderr


def test_two_enrolments_of_one_store_at_once_are_one_and_a_refusal(
    tmp_path: Path, database: str
) -> None:
    import threading

    from autogrocery.central.readmodel import AlreadyEnrolled

    model = open_read_model(database, tmp_path, UTC)
    try:
        for n in range(20):
            start = threading.Barrier(2)
            outcomes: list[str] = []

            def enrol(
                store: str = f"store-{n}",
                start: threading.Barrier = start,
                outcomes: list[str] = outcomes,
            ) -> None:
                start.wait()
                try:
                    model.enroll(store, "hash", rotate=False, now=0.0)
                    outcomes.append("enrolled")
                except AlreadyEnrolled:
                    outcomes.append("already")
                except Exception as exc:  # what must not happen: a database error
                    outcomes.append(type(exc).__name__)

            threads = [threading.Thread(target=enrol) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert sorted(outcomes) == ["already", "enrolled"], outcomes
    finally:
        model.close_now()


def test_a_second_head_office_on_one_database_is_refused(tmp_path: Path, database: str) -> None:
    first = open_read_model(database, tmp_path / "a", UTC)
    second = open_read_model(database, tmp_path / "b", UTC)
    try:
        first.claim()
        with pytest.raises(ReadModelError, match="another head office is running"):
            second.claim()
        first.close_now()  # stopped: its session, and the lock, are gone
        second.claim()
    finally:
        first.close_now()
        second.close_now()


def test_the_reconcilers_leaf_positions_never_deadlock_with_an_applier(
    tmp_path: Path, database: str
) -> None:
    """Each shard's applier updates its stores' rows in a batch's order while the
    reconciler records where those stores' leaves stand: holding all those rows in one
    transaction, the two deadlocked on PostgreSQL (one aborted, the reconciler's pass
    lost). Now each leaf position is its own statement and transaction."""
    stores = [f"s{n:03d}" for n in range(200)]
    model = open_read_model(database, tmp_path, UTC)
    for store in stores:
        model.enroll(store, "x", rotate=False, now=0.0)
    errors: list[BaseException] = []
    stop = time.monotonic() + 6

    def applier() -> None:
        rng = random.Random(1)
        seq = 0
        while time.monotonic() < stop:
            seq += 1
            order = rng.sample(stores, len(stores))
            batch = [
                Arrival(s, f"UP_{s}_1", seq, 1.0,
                        UpEvent(s, seq, "stock", 1.0, Facts(levels=[Level("A", seq, 0)])))
                for s in order
            ]  # fmt: skip
            try:
                model.apply(batch)
            except psycopg.Error as exc:
                errors.append(exc)

    def reconciler() -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            try:
                model.leaf_seen([(s, f"UP_{s}_1", n) for s in stores], time.time())
            except psycopg.Error as exc:
                errors.append(exc)

    threads = [threading.Thread(target=applier), threading.Thread(target=reconciler)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        model.close_now()
    assert errors == []

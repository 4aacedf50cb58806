"""Analytics storage at start and in its summary: a start reads only what is new, a
crash anywhere between the table and the CSV leaves each metric once in both, and the
percentiles are the exact nearest-rank latencies to the documented resolution (three
significant digits, within 0.5%)."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogrocery.actors.analytics_storage import CsvLatencies, StoreLatencies
from autogrocery.domain.messages.analytics import Metric
from autogrocery.domain.models import OrderKind, now
from autogrocery.store.db import open_store
from autogrocery.store.ordering_tables import INSERT_METRIC
from autogrocery.store.shared import SharedConnection

pytestmark = pytest.mark.timeout(60)

RESOLUTION = 0.005  # a reported percentile is within 0.5% of the exact one


def metric(seq: int, latency_ms: float, status: str = "COMPLETED", ago: float = 3600.0) -> Metric:
    finished = now() - ago
    return Metric(
        seq, OrderKind.CUSTOMER, f"o-{seq}", status, 1, finished - latency_ms / 1000, finished
    )


def csv_seqs(path: Path) -> list[int]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [int(row[0]) for row in list(csv.reader(handle))[1:]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return open_store(tmp_path / "store", [])


@pytest.fixture
def store(db_path: Path, tmp_path: Path) -> Iterator[StoreLatencies]:
    storage = StoreLatencies(lambda: SharedConnection(db_path, "NORMAL"), tmp_path / "l.csv")
    storage.open()
    yield storage
    storage.close()


def publish(storage: StoreLatencies, metrics: list[Metric]) -> None:
    """What ordering does: the metrics go to the outbox (and then to analytics)."""
    rows = [
        (m.seq, m.order_kind.value, m.order_id, m.status, m.items, m.created_at, m.finished_at)
        for m in metrics
    ]
    storage.db.write_batch({INSERT_METRIC: rows})


def table_seqs(storage: StoreLatencies) -> list[int]:
    return [row[0] for row in storage.db.execute("SELECT seq FROM latencies ORDER BY seq")]


def reopen(storage: StoreLatencies) -> StoreLatencies:
    storage.close()
    again = StoreLatencies(storage.connect, storage.csv.path)
    again.open()
    return again


def test_a_late_or_repeated_metric_is_recorded_once_and_the_csv_stays_in_order(
    store: StoreLatencies,
) -> None:
    metrics = [metric(seq, 10.0 + seq) for seq in range(1, 11)]
    publish(store, metrics)
    assert store.record([metrics[4]]) == 5  # 1-4 came from the outbox with it
    assert store.record([metrics[2], metrics[4], metrics[1]]) == 0  # late and repeated
    assert store.record(metrics[5:]) == 5
    assert table_seqs(store) == csv_seqs(store.csv.path) == list(range(1, 11))
    assert store.summary(OrderKind.CUSTOMER)["completed"] == 10


@pytest.mark.parametrize("damage", ["torn", "short", "short and torn", "missing", "none"])
def test_a_start_writes_only_what_the_csv_lacks(store: StoreLatencies, damage: str) -> None:
    metrics = [metric(seq, 5.0 * seq) for seq in range(1, 41)]
    publish(store, metrics)
    for at in range(0, 40, 8):
        store.record(metrics[at : at + 8])
    store.close()
    path = store.csv.path
    whole = path.read_bytes()
    lines = whole.splitlines(keepends=True)
    if damage == "torn":  # the crash came mid-line
        path.write_bytes(b"".join(lines[:-1]) + lines[-1][:7])
    elif damage == "short":  # the table's commit, then the crash before the CSV
        path.write_bytes(b"".join(lines[:-5]))
    elif damage == "short and torn":
        path.write_bytes(b"".join(lines[:-5]) + lines[-5][:12])
    elif damage == "missing":
        path.unlink()
    again = StoreLatencies(store.connect, path)
    again.open()
    try:
        assert path.read_bytes() == whole  # each line once, in order, as first written
        more = [metric(41, 7.0)]
        publish(again, more)
        assert again.record(more) == 1
        assert csv_seqs(path) == table_seqs(again) == list(range(1, 42))
    finally:
        again.close()


def spread() -> tuple[list[float], list[float]]:
    """Latencies 3% apart (a percentile one rank off is 3% off, not within 0.5%), the
    smallest twenty five times each, shuffled; and those sorted."""
    rng = random.Random(23)
    values = [round(0.8 * 1.03**i, 3) for i in range(300)]  # 0.8 ms .. 5.5 s
    latencies = [v for v in values[:20] for _ in range(5)] + values[20:]
    rng.shuffle(latencies)
    return latencies, sorted(latencies)


def exact(ordered: list[float], p: float) -> float:
    return ordered[round(p * (len(ordered) - 1))]


def check_percentiles(summary: dict[str, object], ordered: list[float]) -> None:
    latency = summary["latency_ms"]
    assert isinstance(latency, dict)
    assert summary["completed"] == len(ordered)
    assert latency["max"] == ordered[-1]  # exact
    for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        assert latency[name] == pytest.approx(exact(ordered, p), rel=RESOLUTION), name
    assert latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]


def test_the_store_summary_is_the_exact_rank_to_three_digits(store: StoreLatencies) -> None:
    latencies, ordered = spread()
    metrics = [metric(seq, ms) for seq, ms in enumerate(latencies, start=1)]
    metrics += [metric(len(metrics) + 1, 3.0, "FAILED"), metric(len(metrics) + 2, 4.0, "FAILED")]
    metrics.append(metric(len(metrics) + 1, 5.0, "CANCELLED", ago=10.0))
    publish(store, metrics)
    store.record(metrics)
    summary = store.summary(OrderKind.CUSTOMER)
    check_percentiles(summary, ordered)
    assert (summary["failed"], summary["cancelled"], summary["per_minute"]) == (2, 1, 1)
    assert store.summary(OrderKind.RESTOCK)["latency_ms"]["p50"] is None


def test_the_remote_summary_survives_restarts_reading_only_the_tail(tmp_path: Path) -> None:
    latencies, ordered = spread()
    metrics = [metric(seq, ms) for seq, ms in enumerate(latencies, start=1)]
    path = tmp_path / "remote" / "latency.csv"
    remote = CsvLatencies(path)
    remote.open()
    half = len(metrics) // 2
    assert remote.record(metrics[:half]) == half
    remote.close()  # saves the tally: it covers the CSV so far
    tally = path.with_name("latency.csv.tally")
    assert tally.exists()

    remote = CsvLatencies(path)
    remote.open()
    assert remote.last_seq() == half
    assert remote.record(metrics[half - 5 : half + 50]) == 50  # from the feed again: saved
    assert remote.record(metrics[half + 50 :]) == len(metrics) - half - 50  # not saved yet
    assert remote.record(metrics[:3]) == 0
    check_percentiles(remote.summary(OrderKind.CUSTOMER), ordered)
    remote.csv.close()  # a kill: the tally on disk is older than the CSV
    with path.open("ab") as handle:
        handle.write(b"99999,CUSTOMER,o-torn,COMPL")

    remote = CsvLatencies(path)
    remote.open()  # the saved tally, then the lines after it; the torn one is cut
    assert remote.last_seq() == len(metrics)
    check_percentiles(remote.summary(OrderKind.CUSTOMER), ordered)
    remote.close()

    tally.unlink()
    remote = CsvLatencies(path)
    remote.open()  # no tally: the whole CSV, streamed
    check_percentiles(remote.summary(OrderKind.CUSTOMER), ordered)
    assert csv_seqs(path) == list(range(1, len(metrics) + 1))
    remote.close()


def test_the_last_seq_of_a_long_csv_comes_from_its_end(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    remote = CsvLatencies(path)
    remote.open()
    metrics = [metric(seq, 1.0 + seq % 97) for seq in range(1, 4001)]  # ~300 KB: chunks
    remote.record(metrics)
    remote.close()
    whole = path.read_bytes()
    assert len(whole) > 4 * 64 * 1024  # several chunks
    path.with_name("long.csv.tally").unlink()
    path.write_bytes(whole + b"4001,CUSTOMER,o-4001,COMPLETED,1,1733400000.1")  # torn
    again = CsvLatencies(path)
    again.open()
    assert again.last_seq() == 4000
    assert path.read_bytes() == whole
    assert again.summary(OrderKind.CUSTOMER)["completed"] == 4000
    again.close()

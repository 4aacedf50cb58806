"""The replica's lag, read from Litestream's own debug log lines (their real shape)."""

from __future__ import annotations

from autogrocery.replicate.lag import LagTracker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def line(msg: str, **fields: object) -> bytes:
    import orjson

    head = f'{{"time":"2026-12-05T10:21:35Z","level":"DEBUG","msg":"{msg}"'
    return (head + "," + orjson.dumps(fields).decode()[1:]).encode()


def replica_sync(replica: int, db: int) -> bytes:
    return line(
        "replica sync", db="autogrocery.db", txid={"replica": f"{replica:016x}", "db": f"{db:016x}"}
    )


def uploaded(txid: int) -> bytes:
    # The LTX level is a second "level" key, as Litestream writes it.
    return line("ltx file uploaded", level=0, minTXID=f"{txid:016x}", maxTXID=f"{txid:016x}")


def test_lag_counts_from_start_until_the_replica_first_holds_everything() -> None:
    clock = Clock()
    tracker = LagTracker(clock)
    clock.now += 3
    assert tracker.lag() == 3
    tracker.feed(replica_sync(4, 5))  # behind: not yet
    clock.now += 1
    assert tracker.lag() == 4
    tracker.feed(uploaded(5))  # caught up with what the db had
    assert tracker.lag() == 0
    clock.now += 0.5
    assert tracker.lag() == 0.5


def test_an_idle_store_stays_caught_up_and_a_stuck_replica_falls_behind() -> None:
    clock = Clock()
    tracker = LagTracker(clock)
    tracker.feed(replica_sync(7, 7))
    clock.now += 1
    tracker.feed(replica_sync(7, 7))
    assert tracker.lag() == 0
    tracker.feed(replica_sync(7, 9))  # new commits, and the uploads fail from here on
    tracker.feed(
        b'{"time":"t","level":"ERROR","msg":"monitor error","db":"autogrocery.db",'
        b'"error":"put object: connection refused"}'
    )
    clock.now += 30
    assert tracker.lag() == 30
    assert tracker.last_error == "monitor error: put object: connection refused"
    tracker.feed(uploaded(9))
    assert tracker.lag() == 0
    assert tracker.last_error is None


def test_lines_that_are_not_log_entries_change_nothing() -> None:
    clock = Clock()
    tracker = LagTracker(clock)
    assert tracker.feed(b"panic: runtime error\n") is None
    assert tracker.feed(b"") is None
    assert tracker.feed(line("snapshot complete", txid="0000000000000001")) == (
        "DEBUG",
        {
            "time": "2026-12-05T10:21:35Z",
            "level": "DEBUG",
            "msg": "snapshot complete",
            "txid": "0000000000000001",
        },
    )
    assert tracker.confirmed is None

"""How far behind the replica is, read from Litestream's own log.

Litestream 0.5 serves Prometheus metrics (`addr:`), but they say where the local
database is (`litestream_txid`), not what the replica holds. Its log does, at debug
level, on every sync to the replica:

    {"level":"DEBUG","msg":"replica sync","txid":{"replica":"…04","db":"…05"},…}
    {"level":"DEBUG","msg":"ltx file uploaded","minTXID":"…05","maxTXID":"…05",…}

The replica holds everything the store had committed whenever its position reaches the
database's (a sync with nothing to ship, or an upload up to the database's position).
The lag is the time since that last happened: under a steady load it runs from 0 to
about one sync interval and back; idle, it stays there too (each sync confirms); when
the replica cannot be written (the network, the bucket), it grows until it can.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import orjson

_LEVEL = re.compile(rb'"level":"(DEBUG|INFO|WARN|ERROR)"')


class LagTracker:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.started = clock()
        self.confirmed: float | None = None  # when the replica last held it all
        self.db_txid = 0
        self.replica_txid = 0
        self.last_error: str | None = None
        self.errors = 0

    def restarted(self) -> None:
        """Litestream (re)started: nothing is confirmed by the new process yet."""
        with self._lock:
            self.started = self.clock()
            self.confirmed = None

    def feed(self, line: bytes) -> tuple[str, dict[str, object]] | None:
        """One line of Litestream's JSON log; returns its level and fields (None if the
        line is not a log entry)."""
        found = _LEVEL.search(line)
        try:
            decoded: object = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if found is None or not isinstance(decoded, dict):
            return None
        entry: dict[str, object] = decoded
        level = found.group(1).decode()
        msg = entry.get("msg")
        txid = entry.get("txid")
        with self._lock:
            if msg == "replica sync" and isinstance(txid, dict):
                replica = _txid(txid.get("replica"))
                self.db_txid = max(self.db_txid, _txid(txid.get("db")))
                self._replica_at(replica)
            elif msg == "ltx file uploaded":
                self._replica_at(_txid(entry.get("maxTXID")))
            elif level == "ERROR":
                self.errors += 1
                detail = entry.get("error") or entry.get("err") or ""
                self.last_error = f"{msg}: {detail}" if detail else str(msg)
        return level, entry

    def _replica_at(self, txid: int) -> None:
        self.replica_txid = max(self.replica_txid, txid)
        if self.replica_txid >= self.db_txid:
            self.confirmed = self.clock()
            self.last_error = None

    def lag(self) -> float:
        """Seconds since the replica last held everything the store had committed (since
        Litestream started, before its first confirmation)."""
        with self._lock:
            return max(0.0, self.clock() - (self.confirmed or self.started))


def _txid(value: object) -> int:
    try:
        return int(str(value), 16)
    except ValueError:
        return 0

"""The store's checkpointer leaves the WAL alone while Litestream is in charge of it:
Litestream must be the only one to checkpoint a database it replicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogrocery.store.db import DB_NAME, connect
from autogrocery.store.shared import SharedConnection
from tests.waiting import until

pytestmark = pytest.mark.timeout(30)


def test_no_checkpoint_while_litestream_is_in_charge_then_again_when_it_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / DB_NAME
    other = connect(path)  # Litestream's connection, open all along
    other.execute("CREATE TABLE t (x)")
    shared = SharedConnection(path, "NORMAL", checkpoint_every=0.02)
    checkpointer = shared._checkpointer
    in_charge = True
    shared.hand_checkpoints_to(lambda: in_charge)
    try:
        for n in range(50):
            shared.execute("INSERT INTO t VALUES (?)", (n,))
        beats = checkpointer.beats
        until(lambda: checkpointer.beats >= beats + 5, within=10)
        assert checkpointer.checkpoints == 0
        in_charge = False
        until(lambda: checkpointer.checkpoints > 0, within=10)
        in_charge = True
        for n in range(50):
            shared.execute("INSERT INTO t VALUES (?)", (n,))
        ran = checkpointer.checkpoints
    finally:
        shared.shutdown()
    assert checkpointer.checkpoints == ran, "a checkpoint on the stop (TRUNCATE)"
    wal = path.with_name(DB_NAME + "-wal")
    assert wal.stat().st_size > 0  # the WAL is left for Litestream
    other.close()

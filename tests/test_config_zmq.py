"""The [zmq] section and the robots that may all live in other processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogrocery.config import ConfigError, load_config


def test_zmq_defaults_and_keys_dir_relative_to_the_data_dir() -> None:
    config = load_config(env={}, overrides=["store.data_dir=/srv/store"])
    z = config.zmq
    assert (z.robots_endpoint, z.metrics_endpoint) == (
        "tcp://127.0.0.1:5556",
        "tcp://127.0.0.1:5557",
    )
    assert (z.heartbeat_interval, z.heartbeat_misses, z.ack_timeout) == (1.0, 3, 2.0)
    assert (z.curve, z.insecure, z.aisle_deadline) == (False, False, 60.0)
    assert config.keys_path == Path("/srv/store/keys")
    absolute = load_config(env={}, overrides=["zmq.keys_dir=/etc/ag-keys"])
    assert absolute.keys_path == Path("/etc/ag-keys")


def test_no_local_robots_only_when_robots_come_over_zmq() -> None:
    config = load_config(env={}, overrides=["transport.robots=zmq", "robots.per_aisle=0"])
    assert config.robots.per_aisle == 0
    with pytest.raises(ConfigError) as info:
        load_config(env={}, overrides=["robots.per_aisle=0"])
    assert str(info.value) == (
        "config: robots.per_aisle: must be >= 1 unless transport.robots is zmq, got 0"
    )
    assert info.value.key == "robots.per_aisle"


@pytest.mark.parametrize(
    "override",
    ["zmq.heartbeat_interval=0", "zmq.heartbeat_misses=0", "zmq.ack_timeout=-1", "zmq.curve=1"],
)
def test_bad_zmq_values_name_their_key(override: str) -> None:
    with pytest.raises(ConfigError, match=override.split("=")[0].replace(".", r"\.")):
        load_config(env={}, overrides=[override])

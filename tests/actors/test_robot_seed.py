"""A store started with a robot seed draws the same robot failures in every process:
the seed must not go through a str's hash, which PYTHONHASHSEED changes per process
(a test that asked for a robot that fails saw it succeed once in a loop of full runs)."""

from __future__ import annotations

import os
import subprocess
import sys

DRAW = (
    "import random; from autogrocery.actors.supervisor import robot_seed; "
    "print(random.Random(robot_seed(7, 'dairy-1')).random())"
)


def _draw(hash_seed: str) -> str:
    env = os.environ | {"PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", DRAW], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_robot_seed_draws_the_same_in_every_process() -> None:
    assert _draw("1") == _draw("2") == _draw("3")

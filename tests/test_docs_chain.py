"""The README's chain recipe runs as written: its `sh` blocks, taken from the README,
in bash, with the README's own ports, a head office and two stores started as a reader
starts them. Fixed ports need a machine of their own: the recipe runs in a network
namespace of its own (root; `.ci/run` requires it there)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_docs import json_values, section_shell

CHAIN = "<!-- doc-test: chain recipe"

pytestmark = pytest.mark.timeout(180)


def namespace_problem() -> str | None:
    missing = [tool for tool in ("unshare", "ip", "bash", "curl", "jq") if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} not installed"
    if os.geteuid() != 0:
        return "a network namespace of its own needs root"
    return None


def test_the_readme_chain_recipe_moves_stock_between_two_stores(tmp_path: Path) -> None:
    problem = namespace_problem()
    if problem is not None:
        if os.environ.get("AG_REQUIRE_NETNS"):
            pytest.fail(f"the chain recipe cannot run here: {problem}")
        pytest.skip(f"the chain recipe runs in a network namespace: {problem}")
    script = section_shell(CHAIN)
    wrapped = (
        "ip link set lo up\n"
        "set -eo pipefail\n"
        # what the recipe started in the background stops with it, as a reader's Ctrl-C
        "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
        f"{script}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGROCERY")}
    done = subprocess.run(
        ["unshare", "--net", "bash", "-c", wrapped],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
        env=env,
    )
    logs = "".join(
        f"\n--- {name}:\n" + (tmp_path / name).read_text()[-3000:]
        for name in ("hq.log", "north.log", "south.log")
        if (tmp_path / name).exists()
    )
    assert done.returncode == 0, done.stderr + logs
    stock = json_values(done.stdout)[-1]
    assert stock["sku"] == "DAI-001"
    on_hand = {s["store_id"]: s["on_hand"] for s in stock["stores"]}
    assert on_hand == {"north": 470, "south": 490}, stock
    assert stock["total_on_hand"] == 960
    assert (tmp_path / "north.join").stat().st_mode & 0o077 == 0  # a secret

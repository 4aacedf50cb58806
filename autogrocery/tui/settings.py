"""What the operator chose in the dashboard, kept between runs: a small JSON file
(`~/.config/autogrocery/dashboard.json` by default). A missing or broken file is an
empty one; writing replaces the file whole, so a crash never leaves half of it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson


def load(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    with contextlib.suppress(OSError, orjson.JSONDecodeError):
        data = orjson.loads(path.read_bytes())
        if isinstance(data, dict):
            return data
    return {}


def save(path: Path, **changes: object) -> None:
    """Blocking (a small file): call from a thread."""
    data = load(path) | changes
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    os.replace(temp, path)

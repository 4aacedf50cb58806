"""Logging: JSON lines (headless, machine-read) or plain text, to stderr or a file."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import orjson

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class Rotation(Protocol):
    @property
    def max_bytes(self) -> int: ...
    @property
    def backups(self) -> int: ...


def configure_logging(
    level: str, fmt: str, file: Path | None = None, rotation: Rotation | None = None
) -> None:
    """Log to stderr, or to `file`; a file is rotated by size when `rotation` says so
    (`max_bytes` 0 keeps one file that grows)."""
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if file is not None:
        handler = logging.handlers.RotatingFileHandler(
            file,
            maxBytes=rotation.max_bytes if rotation else 0,
            backupCount=rotation.backups if rotation else 0,
            encoding="utf-8",
        )
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.INFO, logging.getLevelName(level))
    logging.getLogger("pykka").setLevel(quiet)
    logging.getLogger("aiosqlite").setLevel(max(logging.WARNING, quiet))  # logs SQL parameters

"""A join file: what one store needs to join its head office. A secret (mode 0600).

    {"format": 1, "store_id": "north", "hub": ["nats-leaf://hq.example:7422"],
     "user": "store-north", "password": "...", "ca": "-----BEGIN CERTIFICATE-----..."}

`hub` lists the head office's leaf URLs (its advertised addresses); `ca` is the PEM
certificate the store trusts for them (null: the link is plain TCP, which the head
office allows on loopback only). Written by `autogrocery central enroll`, read by
`autogrocery run --join FILE` (or `[chain] join`).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from autogrocery.binaries import write_private
from autogrocery.chain.protocol import store_id_problem

FORMAT = 1


class JoinFileError(Exception):
    """A join file that cannot be used: one line naming the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class JoinFile:
    store_id: str
    hub: tuple[str, ...]
    user: str
    password: str
    ca: str | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "store_id": self.store_id,
                "hub": list(self.hub),
                "user": self.user,
                "password": self.password,
                "ca": self.ca,
            },
            indent=2,
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, self.to_json() + "\n")


def read_join_file(path: Path) -> JoinFile:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JoinFileError(f"{path}: no such join file") from None
    except OSError as exc:
        raise JoinFileError(f"{path}: cannot read it ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and os.name == "posix":
        raise JoinFileError(
            f"{path}: a join file holds the store's credentials: make it private (chmod 600 {path})"
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise JoinFileError(f"{path}: not a join file (not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise JoinFileError(f"{path}: not a join file of format {FORMAT}")
    try:
        join = JoinFile(
            store_id=_text(data, "store_id"),
            hub=tuple(_text({"hub": url}, "hub") for url in data["hub"]),
            user=_text(data, "user"),
            password=_text(data, "password"),
            ca=None if data.get("ca") is None else _text(data, "ca"),
        )
    except (KeyError, TypeError) as exc:
        raise JoinFileError(f"{path}: field {exc} is missing or of the wrong type") from None
    problem = store_id_problem(join.store_id)
    if problem is None and not join.hub:
        problem = "it names no hub URL"
    for url in join.hub:
        parts = urlsplit(url)
        if problem is None and (parts.scheme not in ("nats-leaf", "tls") or not parts.hostname):
            problem = f"hub URL {url!r} is not nats-leaf://HOST:PORT"
    if problem is not None:
        raise JoinFileError(f"{path}: {problem}")
    return join


def _text(data: dict[str, object], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise TypeError(key)
    return value

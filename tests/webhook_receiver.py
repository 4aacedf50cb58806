"""A real HTTP receiver of webhooks on 127.0.0.1, as a chat bot's would be: each path
answers as it is scripted (a status, or "hang"), and every request is kept with whether
its signature verified by the snippet docs/operating.md gives receivers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
Verify = Callable[[str, Any, bytes], bool]


def documented_verify(page: str = "docs/operating.md") -> Verify:
    """`verify` as `page` (docs/operating.md, README.md) writes it, for a receiver to copy."""
    text = (ROOT / page).read_text()
    snippet = next(
        block
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL)
        if "def verify(" in block
    )
    space: dict[str, Any] = {}
    exec(snippet, space)  # noqa: S102  # our own documentation
    verify: Verify = space["verify"]
    return verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    verified: bool


@dataclass
class Receiver:
    secrets: dict[str, str] = field(default_factory=dict)  # path: the webhook's secret
    scripts: dict[str, list[int | str]] = field(default_factory=dict)  # path: answers
    received: list[Received] = field(default_factory=list)
    base: str = ""
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    _verify: Verify = field(default_factory=documented_verify)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{name}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def at(self, name: str) -> list[Received]:
        return [got for got in self.received if got.path == name]

    async def wait(self, name: str, count: int, within: float = 10.0) -> list[Received]:
        """The first `count` requests to `name`, once they have come."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.at(name)) >= count), within
            )
        return self.at(name)[:count]

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        raw = await request.read()
        secret = self.secrets.get(name, "")
        got = Received(
            name,
            dict(request.headers),
            orjson.loads(raw),
            raw,
            self._verify(secret, request.headers, raw),
        )
        script = self.scripts.get(name, [])
        answer = script.pop(0) if script else 200
        async with self._arrived:
            self.received.append(got)
            self._arrived.notify_all()
        if answer == "hang":
            await asyncio.sleep(3600)  # until the sender gives up on it
        return web.Response(status=int(answer))

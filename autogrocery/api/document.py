"""The OpenAPI document an app serves, built on its first request rather than at start.

Building it is 35-55 ms of CPU (msgspec's schemas of every model), spent by a start
that only needs to know the routes are documented (`openapi.check_documented`, at
`create_app`); the first `GET /api/openapi.json` builds it off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson


class ServedDocument:
    def __init__(self, build: Callable[[], dict[str, object]]) -> None:
        self._build = build
        self._encoded: bytes | None = None

    def encoded(self) -> bytes:
        """The document as served, built now if it was not (in the caller's thread).
        Two first readers at once both build it, and get the same bytes."""
        if self._encoded is None:
            self._encoded = orjson.dumps(self._build())
        return self._encoded

    async def body(self) -> bytes:
        if self._encoded is not None:
            return self._encoded
        return await asyncio.get_running_loop().run_in_executor(None, self.encoded)

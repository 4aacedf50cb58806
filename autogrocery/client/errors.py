"""How a call to a store fails: an answer, or none.

`ApiError` is the store's error answer (problem+json), kept as the server wrote it:
its text is the server's, verbatim, with the fields and shortages it names, and `what`
names the request it answers. `Disconnected` is no answer at all (refused, reset,
timed out; the library's error is its `__cause__`), and `describe` says why in a few
words, for the dashboard's banner. `StoreClient` raises them; each caller shows them
in its own words.
"""

from __future__ import annotations

import asyncio

import aiohttp
import orjson


class ApiError(Exception):
    """An error answer from the store, kept as the server wrote it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, object]] | None = None,
        shortages: list[dict[str, object]] | None = None,
        *,
        what: str = "",
    ) -> None:
        self.status = status
        self.what = what  # the request's label, or its path
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.shortages = shortages or []
        super().__init__(str(self))

    @classmethod
    def from_body(cls, status: int, body: bytes, reason: str | None, what: str = "") -> ApiError:
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        text = body.decode("utf-8", "replace").strip()[:300] if not data else ""
        return cls(
            status,
            str(data.get("title") or reason or "error"),
            str(data.get("detail") or text),
            data.get("errors") if isinstance(data.get("errors"), list) else None,
            data.get("shortages") if isinstance(data.get("shortages"), list) else None,
            what=what,
        )

    def __str__(self) -> str:
        text = f"{self.status} {self.title}"
        if self.detail:
            text += f": {self.detail}"
        for error in self.errors:
            text += f"\n  {error.get('field', '?')}: {error.get('message', '')}"
        for short in self.shortages:
            text += (
                f"\n  {short.get('sku')}: requested {short.get('requested')}, "
                f"available {short.get('available')}"
            )
        return text


class UnexpectedAnswer(ApiError):
    """An answer the client does not understand: not JSON, or not the contract's shape
    (an unknown field, a missing one, a wrong type), which msgspec names. An `ApiError`
    (status 0: not the store's own error answer), so whoever shows a store's error shows
    this one too; its text is `unexpected answer: <what msgspec said>`."""

    def __init__(self, detail: str, *, what: str = "") -> None:
        super().__init__(0, "unexpected answer", detail, what=what)

    def __str__(self) -> str:
        return f"{self.title} to {self.what}: {self.detail}" if self.what else super().__str__()


class Disconnected(Exception):
    """The store did not answer (refused, reset, timed out)."""


def describe(exc: BaseException) -> str:
    """A short reason for a failed connection, for the banner."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]

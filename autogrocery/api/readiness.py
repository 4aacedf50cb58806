"""`/readyz`'s answer, the store's and the head office's: each app's checks, then its
background tasks."""

from __future__ import annotations

from aiohttp import web

from autogrocery.api.bodies import json_response
from autogrocery.api.core import core

NOT_READY_RETRY_AFTER = 5  # seconds, on a 503 from /readyz


def readiness(
    request: web.Request, checks: dict[str, str], shown: dict[str, object] | None = None
) -> web.Response:
    """`/readyz`'s answer: ready (200) when every check and every background task of
    the app says "ok", else 503 with Retry-After. `shown` goes beside the checks, never
    a reason to be unready."""
    for name, status in core(request).background.status().items():
        checks[f"task {name}"] = status
    ready = all(value == "ok" for value in checks.values())
    answer: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": checks}
    return json_response(
        answer | (shown or {}),
        status=200 if ready else 503,
        headers=None if ready else {"Retry-After": str(NOT_READY_RETRY_AFTER)},
    )

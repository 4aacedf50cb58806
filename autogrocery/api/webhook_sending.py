"""One delivery attempt: the event's body, its signature, the POST, and what comes next.

A receiver verifies a delivery as Stripe's and GitHub's are verified (docs/operating.md,
"Webhooks"): HMAC-SHA256 with the webhook's secret over the timestamp header, a ".", and
the raw body, compared in constant time with the hex after "sha256=" in the signature
header; a timestamp far from its clock is a replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import random
import time
from dataclasses import dataclass

import aiohttp

from autogrocery import __version__
from autogrocery.api.bodies import encode_json
from autogrocery.api.url_guard import UrlRefused, check_literal, parse_url
from autogrocery.api.views import alert_from_facts
from autogrocery.api.webhook_tables import PING, Due, Target
from autogrocery.domain.models import rfc3339

FIRST_BACKOFF = 1.0  # s after the first failure; doubling after each one after it
MAX_ERROR = 300  # characters of an error kept with the delivery
USER_AGENT = f"autogrocery-webhooks/{__version__}"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST came to: `code` the receiver's status (None: no answer)."""

    delivered: bool
    code: int | None
    ms: float
    error: str | None


def body_of(due: Due) -> bytes:
    """The event as the event socket carries it: `{type, at, data}` (a ping's data: its
    facts as they are)."""
    data = due.facts if due.type == PING else alert_from_facts(due.facts)
    return encode_json({"type": due.type, "at": rfc3339(due.at), "data": data})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def headers(target: Target, due: Due, body: bytes, timestamp: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Autogrocery-Event": due.type,
        "X-Autogrocery-Delivery": due.delivery_id,
        "X-Autogrocery-Timestamp": timestamp,
        "X-Autogrocery-Signature": signature(target.secret, timestamp, body),
    }


async def attempt(
    session: aiohttp.ClientSession,
    target: Target,
    due: Due,
    within: float,
    allow_private: bool,
) -> Attempt:
    """POST the delivery once. Any 2xx is delivered; a redirect is not followed (it is a
    failed attempt: the webhook's URL should be the final one)."""
    body = body_of(due)
    timestamp = str(int(time.time()))
    started = time.monotonic()
    code: int | None = None
    error: str | None = None
    try:
        url = parse_url(target.url)
        check_literal(url, allow_private)
        async with session.post(
            url,
            data=body,
            headers=headers(target, due, body, timestamp),
            timeout=aiohttp.ClientTimeout(total=within),
            allow_redirects=False,
        ) as response:
            code = response.status
            await response.content.read(65_536)  # a bounded look: the answer is not kept
            if not 200 <= code < 300:
                error = f"HTTP {code} {response.reason or ''}".rstrip()
    except TimeoutError:
        error = f"no answer within {within:g} s"
    except (aiohttp.ClientError, UrlRefused, OSError) as failure:
        error = str(failure) or type(failure).__name__
    ms = round((time.monotonic() - started) * 1000, 1)
    delivered = error is None and code is not None
    return Attempt(delivered, code, ms, error[:MAX_ERROR] if error else None)


def backoff(failures: int, cap: float) -> float:
    """Seconds before the next try after `failures` failed ones: doubling from
    FIRST_BACKOFF up to `cap`, half of it fixed and half random (so many stores' retries
    to one receiver spread out, and none comes at once)."""
    ceiling = min(cap, FIRST_BACKOFF * 2 ** min(failures - 1, 40))
    wait: float = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311  # no secret
    return wait


async def pause(wake: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `wake` is set; clears it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), max(0.0, seconds))
    wake.clear()

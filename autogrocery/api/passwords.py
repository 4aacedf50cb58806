"""Passwords: what a username and password must be to be accepted, and hashing and
checking them with bcrypt off the event loop, on a few threads of lower priority."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt

from autogrocery.api.usernames import enforce
from autogrocery.domain.errors import ValidationError


class Passwords:
    def __init__(self, bcrypt_cost: int) -> None:
        self.bcrypt_cost = bcrypt_cost
        self._dummy_hash = bcrypt.hashpw(b"timing-equaliser", bcrypt.gensalt(4))
        # bcrypt is CPU-heavy by design. Bounded to half the cores, a burst of logins
        # queues instead of taking every core from the event loop and the actors.
        self._hashing = ThreadPoolExecutor(
            max_workers=max(1, (os.cpu_count() or 2) // 2),
            thread_name_prefix="bcrypt",
            initializer=_lower_priority,
        )

    def close(self) -> None:
        self._hashing.shutdown(wait=True, cancel_futures=True)

    async def hash_password(self, password: str) -> bytes:
        salt = bcrypt.gensalt(self.bcrypt_cost)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._hashing, bcrypt.hashpw, password.encode(), salt)

    async def check_password(self, password: str, hashed: bytes | None) -> bool:
        loop = asyncio.get_running_loop()
        candidate = password.encode()[:72]
        ok = await loop.run_in_executor(
            self._hashing, bcrypt.checkpw, candidate, hashed or self._dummy_hash
        )
        return ok and hashed is not None


def _lower_priority() -> None:
    """Hashing threads yield the CPU to the event loop and the actors (Linux: per thread)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def validate_credentials(username: str, password: str) -> str:
    """The enforced form of `username` if both are acceptable; ValidationError naming the
    first field that is not."""
    errors = []
    enforced = ""
    try:
        enforced = enforce(username)
    except ValidationError as error:
        errors.extend(error.extra["errors"])
    if len(password) < 8:
        errors.append({"field": "password", "message": "at least 8 characters"})
    elif len(password.encode()) > 72:
        errors.append({"field": "password", "message": "at most 72 bytes"})
    if errors:
        raise ValidationError(f"{errors[0]['field']}: {errors[0]['message']}", errors)
    return enforced

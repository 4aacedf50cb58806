"""A real SMTP server on loopback (aiosmtpd's, in the test's event loop) that keeps every
mail it is given, and refuses the first `refuse` ones with a temporary error (451) as a
busy relay does."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP


@dataclass
class Inbox:
    refuse: int = 0
    reply: str = "451 4.3.0 busy, try again later"  # what a refusal says
    mails: list[EmailMessage] = field(default_factory=list)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refused < self.refuse:
                self.refused += 1
                return self.reply
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.mails.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [mail for mail in self.mails if mail["To"] == address]


@asynccontextmanager
async def smtp_server(
    refuse: int = 0, reply: str = "451 4.3.0 busy, try again later"
) -> AsyncIterator[tuple[Inbox, int]]:
    """The inbox, and the port the server listens on (127.0.0.1, in this event loop)."""
    inbox = Inbox(refuse, reply)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    try:
        yield inbox, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def parts(mail: EmailMessage) -> tuple[str, str]:
    """The mail's plain text and HTML."""
    text = mail.get_body(("plain",))
    page = mail.get_body(("html",))
    assert text is not None
    assert page is not None
    return str(text.get_content()), str(page.get_content())

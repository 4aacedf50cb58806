"""The mail loop: plan what each operator is told (mail_planner.py), then send what is
queued through the SMTP relay of `[notify]` with aiosmtplib, each mail until the relay
takes it or `notify.webhook_retry_for` has passed since its first try (the waits
between tries as a webhook's: webhook_sending.backoff)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from autogrocery.api.accounts import AuthTables
from autogrocery.api.mail_planner import MailPlanner
from autogrocery.api.mail_tables import (
    SELECT_DUE_MAIL,
    Queued,
    forget_old_mail,
    queued,
    record_send,
)
from autogrocery.api.webhook_sending import backoff
from autogrocery.config import NotifyConfig
from autogrocery.domain.models import now

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0  # s between looks for what to mail
FORGET_EVERY = 3600.0
BATCH = 20  # mails sent per look
MAX_ERROR = 300

Count = Callable[[str], None]  # counts a send's outcome: sent, retried, failed


def message(mail: Queued, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.mail.recipient
    msg["Subject"] = mail.mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=mail.mail_id, domain=sender.rsplit("@", 1)[-1])
    msg.set_content(mail.mail.text)
    msg.add_alternative(mail.mail.html, subtype="html")
    return msg


class Mailer:
    def __init__(
        self,
        tables: AuthTables,
        config: NotifyConfig,
        planner: MailPlanner,
        password: str | None,
        count: Count,
    ) -> None:
        self._tables = tables
        self._config = config
        self._planner = planner
        self._password = password
        self._count = count

    async def run(self) -> None:
        """Plan and send, each second; until cancelled."""
        forgotten_at = 0.0
        while True:
            await self._planner.plan()
            if self._config.smtp_host:
                await self.send_due()
            if now() - forgotten_at >= FORGET_EVERY:
                forgotten_at = now()
                await self._tables.transact(lambda c: forget_old_mail(c, now()))
            await asyncio.sleep(LOOK_EVERY)

    async def send_due(self) -> None:
        """Send the queued mails that are due, the longest waiting first."""
        rows = await self._tables.conn.execute_fetchall(SELECT_DUE_MAIL, (now(), BATCH))
        for mail in map(queued, rows):
            error = await self._send(mail)
            await self._settle(mail, error)

    async def _send(self, mail: Queued) -> str | None:
        """None when the relay took it; else why not."""
        c = self._config
        try:
            await aiosmtplib.send(
                message(mail, c.smtp_from),
                hostname=c.smtp_host,
                port=c.smtp_port,
                username=c.smtp_user or None,
                password=self._password if c.smtp_user else None,
                use_tls=c.smtp_tls == "tls",
                start_tls=c.smtp_tls == "starttls",
                timeout=c.smtp_timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
            return (str(failure) or type(failure).__name__)[:MAX_ERROR]
        return None

    async def _settle(self, mail: Queued, error: str | None) -> None:
        config = self._config
        at = now()
        first_at = mail.first_at if mail.first_at is not None else at
        next_at = at
        if error is None:
            status = outcome = "sent"
        elif at - first_at >= config.webhook_retry_for:
            status = outcome = "failed"
            log.warning(
                "mail %s to %s failed for good after %d tries (%s)",
                mail.mail_id,
                mail.mail.recipient,
                mail.attempts + 1,
                error,
            )
        else:
            status, outcome = "pending", "retried"
            next_at = at + backoff(mail.attempts + 1, config.webhook_max_backoff)
            log.info("mail %s not sent (%s); trying again", mail.mail_id, error)
        await self._tables.transact(
            lambda conn: record_send(conn, mail.mail_id, status, at, next_at, error)
        )
        self._count(outcome)
